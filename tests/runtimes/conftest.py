"""Fixtures for handlers out of process: moto's threaded server, a proxy in front of it, and
runners that are always stopped (and shown gone) after each test."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from runtimes.support import COMMAND_EXAMPLES, HANDLERS, NODE_EXAMPLES, Moto, group_alive

from model.harness.faults import Injector
from model.harness.runtimes.process import Runner
from model.harness.runtimes.proxy import Proxy


@pytest.fixture
def runners() -> Iterator[list[Runner]]:
    """Runners made by a test; each is stopped at the end and every process it ever ran gone."""
    made: list[Runner] = []
    yield made
    for runner in made:
        runner.stop()
    for runner in made:
        for pid in runner.history:
            assert not group_alive(pid), f"runner process group {pid} outlived its test"


@pytest.fixture
def runner(runners: list[Runner]) -> Runner:
    made = Runner(start_timeout_s=30.0)
    runners.append(made)
    return made


@pytest.fixture
def python_runner() -> list[str]:
    """The tiny Python runner of examples/command, as a command."""
    return [sys.executable, str(COMMAND_EXAMPLES / "runner.py")]


@pytest.fixture
def handlers(tmp_path: Path) -> Path:
    """This folder's test handlers in a folder of their own whose node_modules is the
    examples' (a handler resolves its packages from its own folder, as on Lambda)."""
    for handler in HANDLERS.iterdir():
        shutil.copy(handler, tmp_path / handler.name)
    modules = NODE_EXAMPLES / "node_modules"
    if modules.is_dir():
        (tmp_path / "node_modules").symlink_to(modules)
    return tmp_path


@pytest.fixture(scope="session")
def moto() -> Iterator[Moto]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield Moto(f"http://{host}:{port}")
    server.stop()
    if server._server is not None:  # stop() leaves the listening socket open
        server._server.server_close()


@pytest.fixture
def injector() -> Injector:
    return Injector()


@pytest.fixture
def proxy(moto: Moto, injector: Injector) -> Iterator[Proxy]:
    with Proxy({"dynamodb": moto.url, "sqs": moto.url}, injector).start(lanes=2) as started:
        yield started
