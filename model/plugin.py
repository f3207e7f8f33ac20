"""The pytest plugin: ``--handler module:function`` and the fixtures that run it in the sandbox.

Registered through the ``pytest11`` entry point, so it is active wherever queuecheck is
installed; a user runs ``pytest tests/stateful --handler mypkg.app:handler``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from model import profiles
from model.driver import DEFAULT_HANDLER, Driver, Handler, HandlerLoadError, load_handler
from model.sandbox import Sandbox, start


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("queuecheck")
    group.addoption(
        "--handler",
        default=DEFAULT_HANDLER,
        help=f"the handler to verify, as module:function importable from PYTHONPATH "
        f"(default: {DEFAULT_HANDLER})",
    )
    group.addoption(
        "--save-scenario",
        metavar="PATH",
        type=Path,
        help="when a state-machine test fails, save its shrunk run as a scenario file at PATH "
        "(expectations from the model; see scenarios/README.md)",
    )


def pytest_configure(config: pytest.Config) -> None:
    profiles.load()
    config.addinivalue_line(
        "markers", "zoo: runs the harness against a deliberately broken handler"
    )


def pytest_report_header(config: pytest.Config) -> str:
    handler = config.getoption("--handler")
    return f"queuecheck: handler {handler}, hypothesis profile {profiles.current()}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.config.getoption("--save-scenario") is not None:
        from model.machine import LAST_FAILURE  # only now: it loads the harness

        LAST_FAILURE.story, LAST_FAILURE.invariant, LAST_FAILURE.problems = [], "", []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """After a failed test whose state machine recorded a failing run, save it as a scenario."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    out = item.config.getoption("--save-scenario")
    if out is None or report.when != "call" or not report.failed:
        return
    from model import scenario_writer

    found = scenario_writer.last_failure(f"{item.config.getoption('--handler')} ({item.nodeid})")
    if found is None:
        return
    scenario_writer.save(found, out, profiles.current())
    report.sections.append(("queuecheck", f"the failing run is saved as the scenario {out}"))


@pytest.fixture(scope="session")
def handler_spec(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--handler"))


@pytest.fixture(scope="session")
def handler(handler_spec: str) -> Handler:
    """The handler under test, imported after the sandbox (so moto hooks its clients)."""
    start()
    try:
        return load_handler(handler_spec)
    except HandlerLoadError as exc:
        pytest.exit(str(exc), returncode=4)


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A fresh, empty table and queue in moto, with the handler's environment set."""
    box = start()
    box.reset()
    for name, value in box.environment.items():
        monkeypatch.setenv(name, value)
    yield box
    box.injector.reset()


@pytest.fixture
def driver(handler: Handler, sandbox: Sandbox) -> Driver:
    """Invokes the handler under test with API Gateway events and parses its answers."""
    return Driver(handler, sandbox)


def pytest_make_parametrize_id(config: pytest.Config, val: Any, argname: str) -> str | None:
    describe = getattr(val, "describe", None)
    return describe() if callable(describe) else None
