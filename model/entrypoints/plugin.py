"""The pytest plugin: ``--handler module:function`` and the fixtures that run it in the sandbox.

Registered through the ``pytest11`` entry point, so it is active wherever queuecheck is
installed; a user runs ``pytest tests/stateful --handler mypkg.app:handler``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from model.core.spec import Pipeline, PipelineFileError
from model.core.spec import load as load_pipeline
from model.harness import backends, profiles
from model.harness.driver import (
    DEFAULT_HANDLER,
    Driver,
    Handler,
    HandlerImportRaised,
    HandlerLoadError,
)
from model.harness.sandbox import Sandbox, start


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("queuecheck")
    group.addoption(
        "--handler",
        default=None,
        help=f"the handler to verify, as module:function importable from PYTHONPATH "
        f"(default: the pipeline file's, else {DEFAULT_HANDLER})",
    )
    group.addoption(
        "--pipeline",
        metavar="PATH",
        default=None,
        help="a pipeline file (TOML) describing an intake not written to queuecheck's contract: "
        "the state machine then drives its handler and checks the generic invariants",
    )
    group.addoption(
        "--backend",
        default=None,
        choices=backends.NAMES,
        help="where DynamoDB and SQS run: moto (in-process, default), moto-server, dynalite, aws "
        "(docs/backends.md); QUEUECHECK_BACKEND sets it too",
    )
    group.addoption(
        "--save-scenario",
        metavar="PATH",
        type=Path,
        help="when a state-machine test fails, save its shrunk run as a scenario file at PATH "
        "(expectations from the model; see scenarios/README.md)",
    )
    group.addoption(
        "--report-html",
        metavar="PATH",
        type=Path,
        help="at the end of the session, write the state-machine runs as one self-contained "
        "HTML page at PATH (PASS or FAIL): each failing run as a sequence diagram, the coverage "
        "as a heatmap (docs/ci.md)",
    )


def _pipeline(config: pytest.Config) -> Pipeline | None:
    path = config.getoption("--pipeline", None)
    return load_pipeline(path) if path else None


def _handler_spec(config: pytest.Config) -> str:
    pipeline = _pipeline(config)
    return str(
        config.getoption("--handler") or (pipeline.handler if pipeline else None) or DEFAULT_HANDLER
    )


def pytest_configure(config: pytest.Config) -> None:
    try:
        pipeline = _pipeline(config)
    except PipelineFileError as exc:
        pytest.exit(str(exc), returncode=2)
    runtime = pipeline.runtime if pipeline else "python"
    try:
        backends.choose(config.getoption("--backend") or backends.default(runtime))
    except backends.BackendError as exc:
        pytest.exit(str(exc), returncode=2)
    if pipeline and not (config.getoption("--handler") or pipeline.handler):
        pytest.exit(f"{pipeline.origin} names no handler: add handler = or --handler", 2)
    for option in ("--report-html", "--save-scenario"):
        path = config.getoption(option)
        if path is not None:
            from model.entrypoints.page import unwritable

            problem = unwritable(path, option)
            if problem:
                pytest.exit(problem, returncode=2)
    chosen = profiles.current()
    if chosen not in profiles.NAMES:
        pytest.exit(f"HYPOTHESIS_PROFILE={chosen!r} is not one of {profiles.NAMES}", 2)
    profiles.load()
    config.addinivalue_line(
        "markers", "zoo: runs the harness against a deliberately broken handler"
    )


def pytest_report_header(config: pytest.Config) -> str:
    path = config.getoption("--pipeline")
    judged = f", pipeline {path}" if path else ""
    return (
        f"queuecheck: handler {_handler_spec(config)}{judged}, "
        f"hypothesis profile {profiles.current()}"
    )


PAGE = pytest.StashKey["_Page"]()


@attrs.define
class _Page:
    """What ``--report-html`` draws at the end of the session: the intake the state-machine
    tests verified, and the failing run of each test that failed."""

    started: float = attrs.field(factory=time.monotonic)
    intake: Any = None
    failures: list[Any] = attrs.Factory(list)


def pytest_runtest_setup(item: pytest.Item) -> None:
    config = item.config
    if config.getoption("--save-scenario") is not None or config.getoption("--report-html"):
        from model.harness.machine import LAST_FAILURE  # only now: it loads the harness
        from model.harness.story import FAILURES

        LAST_FAILURE.story, LAST_FAILURE.invariant, LAST_FAILURE.problems = [], "", []
        FAILURES.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """After a failed test whose state machine recorded a failing run, save it as a scenario."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    _keep_for_the_page(item, report)
    out = item.config.getoption("--save-scenario")
    if out is None or report.when != "call" or not report.failed:
        return
    pipeline_path = item.config.getoption("--pipeline")
    if pipeline_path and "intake_machine" in getattr(item, "fixturenames", ()):
        from model.harness.machine import LAST_FAILURE
        from model.scenarios.writer import write_pipeline_scenario

        if LAST_FAILURE.story:
            spec = _handler_spec(item.config)
            write_pipeline_scenario(LAST_FAILURE, out, handler=spec, pipeline_path=pipeline_path)
            report.sections.append(("queuecheck", f"the failing run is saved as {out}"))
        return
    from model.scenarios import writer as scenario_writer

    found = scenario_writer.last_failure(f"{_handler_spec(item.config)} ({item.nodeid})")
    if found is None:
        return
    scenario_writer.save(found, out, profiles.current())
    report.sections.append(("queuecheck", f"the failing run is saved as the scenario {out}"))


def _keep_for_the_page(item: pytest.Item, report: pytest.TestReport) -> None:
    """A failed state-machine test's shrunk runs (one per invariant it broke), for the page."""
    page = item.config.stash.get(PAGE, None)
    if page is None or report.when != "call" or not report.failed:
        return
    from model.harness.story import FAILURES, LAST_FAILURE

    found = list(FAILURES.values()) or ([LAST_FAILURE] if LAST_FAILURE.story else [])
    page.failures.extend(
        attrs.evolve(failure, story=list(failure.story), problems=list(failure.problems))
        for failure in found
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    if session.config.getoption("--report-html"):
        session.config.stash[PAGE] = _Page()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the page when the session ran the intake (a worker of pytest-xdist writes none:
    run the page's session without ``-n``)."""
    config = session.config
    page_state, out = config.stash.get(PAGE, None), config.getoption("--report-html")
    if page_state is None or page_state.intake is None or hasattr(config, "workerinput"):
        return
    from model.entrypoints import page

    written = page.write(
        page.report(
            page_state.intake,
            handler=_handler_spec(config),
            profile=profiles.current(),
            seconds=time.monotonic() - page_state.started,
            failures=page_state.failures,
            replay=[f"pytest {' '.join(config.invocation_params.args)}"],
        ),
        out,
    )
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"queuecheck: HTML report written to {written}")


@pytest.fixture(scope="session")
def handler_spec(request: pytest.FixtureRequest) -> str:
    return _handler_spec(request.config)


@pytest.fixture(scope="session")
def pipeline(request: pytest.FixtureRequest) -> Pipeline | None:
    """The pipeline file given with --pipeline, or None: the handler follows the contract."""
    return _pipeline(request.config)


@pytest.fixture(scope="session")
def intake(request: pytest.FixtureRequest, handler_spec: str, pipeline: Pipeline | None) -> Any:
    """The intake under test, loaded as Lambda starts a function: its table, queue and
    environment made first, then the handler imported (model.harness.intake.load)."""
    from model.harness.intake import load

    start()
    try:
        loaded = load(handler_spec, pipeline)
    except HandlerImportRaised as exc:
        # the handler's own code failed: every test that needs it fails (exit status 1), as a
        # mutant of the handler that raises on import must (tox -e mutate)
        pytest.fail(str(exc), pytrace=False)
    except HandlerLoadError as exc:
        pytest.exit(str(exc), returncode=4)
    page = request.config.stash.get(PAGE, None)
    if page is not None:
        page.intake = loaded
    return loaded


@pytest.fixture(scope="session")
def intake_machine(intake: Any) -> type[Any]:
    """The state machine class that verifies the handler under test: against the contract,
    or, with --pipeline, as its pipeline file describes it with the generic invariants."""
    from model.harness.machine import machine_for

    return machine_for(intake)


@pytest.fixture(scope="session")
def handler(intake: Any) -> Handler:
    """The handler under test, imported after the sandbox (so moto hooks its clients)."""
    return intake.handler  # type: ignore[no-any-return]


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
def driver(handler: Handler, sandbox: Sandbox, pipeline: Pipeline | None) -> Driver:
    """Invokes the handler under test with API Gateway events and parses its answers."""
    if pipeline is not None:
        pytest.skip("a contract check: it does not apply to a pipeline file's handler")
    return Driver(handler, sandbox)


def pytest_make_parametrize_id(config: pytest.Config, val: Any, argname: str) -> str | None:
    describe = getattr(val, "describe", None)
    return describe() if callable(describe) else None
