"""Where the harness's DynamoDB and SQS live: in-process moto, or a service over HTTP.

``moto`` (the default) runs in the process and is read directly: the fastest. The others speak
the AWS wire protocol on 127.0.0.1 and are read only as any client could read them (a
consistent Scan for the table; the queue by recording every message it accepted), so that a
PASS does not rest on moto's internals:

- ``moto-server``: moto's threaded HTTP server, for both services;
- ``dynalite``: DynamoDB by dynalite (npm, a separate implementation on LevelDB, run by node),
  SQS by moto's server;
- ``aws``: a real account. Refused unless ``QUEUECHECK_REAL_AWS=1``, and always under ``CI``.

The choice is one setting, ``QUEUECHECK_BACKEND`` (``--backend`` sets it), read once when the
sandbox starts. Servers are started on free ports, and stopped (process group and all) when
the process exits, also after a failure or Ctrl-C.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import attrs

NAMES = ("moto", "moto-server", "dynalite", "aws")
ENV = "QUEUECHECK_BACKEND"
REAL_AWS_ENV = "QUEUECHECK_REAL_AWS"
AWS_ENDPOINT_ENV = "QUEUECHECK_AWS_ENDPOINT_URL"
"""For tests only: the endpoint that stands in for the real account under ``--backend aws``."""
DYNALITE_VERSION = "4.0.0"
DYNALITE_HOME_ENV = "QUEUECHECK_DYNALITE_HOME"
"""A folder whose ``node_modules/dynalite`` the harness runs (installed there if missing)."""
START_TIMEOUT_S = 30.0
NPM_TIMEOUT_S = 180.0

# In memory, tables ACTIVE at once, one line with the port once listening; gone when told or
# when its stdin closes (the harness died). The CLI cannot listen on port 0, this can.
_DYNALITE_LAUNCHER = """
const dynalite = require(process.env.QUEUECHECK_DYNALITE_MODULE)
const server = dynalite({createTableMs: 0, deleteTableMs: 0, updateTableMs: 0})
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({port: server.address().port}) + '\\n')
})
const bye = () => process.exit(0)
process.on('SIGTERM', bye)
process.on('SIGINT', bye)
process.stdin.on('end', bye)
process.stdin.resume()
"""


class RealAWSRefused(BaseException):
    """A request was about to leave the sandbox. BaseException so no handler can swallow it."""


class BackendError(Exception):
    """A backend cannot be used here; the message says why, in one line."""


def current() -> str:
    """The backend in force: ``QUEUECHECK_BACKEND``, else in-process moto."""
    name = os.environ.get(ENV, "moto") or "moto"
    if name not in NAMES:
        raise BackendError(f"unknown backend {name!r} (choose from {', '.join(NAMES)})")
    return name


def default(runtime: str = "python") -> str:
    """The backend when none is named: ``QUEUECHECK_BACKEND``, else in-process moto for a
    handler in this process, moto's server for one in another (it reaches AWS over HTTP)."""
    named = os.environ.get(ENV)
    if named:
        return named
    return "moto" if runtime == "python" else "moto-server"


def choose(name: str) -> None:
    """Make ``name`` the backend of this process and of those it starts (pytest's workers)."""
    os.environ[ENV] = name
    refusal = refused(name)
    if refusal:
        raise BackendError(refusal)


def refused(name: str) -> str | None:
    """Why ``name`` may not run here, or None."""
    if name not in NAMES:
        return f"unknown backend {name!r} (choose from {', '.join(NAMES)})"
    if name == "aws":
        if os.environ.get("CI"):
            return "--backend aws never runs under CI (CI is set): it would touch a real account"
        if os.environ.get(REAL_AWS_ENV) != "1":
            return (
                f"--backend aws touches a real AWS account: set {REAL_AWS_ENV}=1 to confirm "
                "(and credentials for a sandbox account, never production)"
            )

    if name == "dynalite" and shutil.which("node") is None:
        return "--backend dynalite needs node (https://nodejs.org) on PATH"
    return None


@attrs.frozen
class Endpoints:
    """Where each service answers."""

    dynamodb: str
    sqs: str

    @property
    def hosts(self) -> frozenset[str]:
        return frozenset(url.split("://", 1)[1].rstrip("/") for url in (self.dynamodb, self.sqs))


@attrs.define
class Servers:
    """The local servers of one backend, stopped at exit."""

    endpoints: Endpoints
    stoppers: list[Any] = attrs.Factory(list)

    def stop(self) -> None:
        while self.stoppers:
            with contextlib.suppress(Exception):
                self.stoppers.pop()()


def start_servers(name: str) -> Servers:
    """Start what ``name`` needs on 127.0.0.1; stopped at exit (also after a failure)."""
    moto_url, stop_moto = _moto_server()
    servers = Servers(Endpoints(moto_url, moto_url), [stop_moto])
    atexit.register(servers.stop)
    if name == "dynalite":
        dynalite_url, stop_dynalite = _dynalite()
        servers.stoppers.append(stop_dynalite)
        servers.endpoints = Endpoints(dynalite_url, moto_url)
    return servers


def _moto_server() -> tuple[str, Any]:
    import logging

    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        raise BackendError(
            f"--backend moto-server needs moto's server (flask, flask-cors): {exc}; "
            "pip install -c constraints.txt -e '.[harness]'"
        ) from exc
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()

    def stop() -> None:
        server.stop()
        if server._server is not None:  # stop() leaves the listening socket open
            server._server.server_close()

    return f"http://{host}:{port}", stop


def dynalite_module() -> Path:
    """dynalite's folder, installed with npm into the harness's cache the first time."""
    home = Path(
        os.environ.get(DYNALITE_HOME_ENV) or Path.home() / ".cache" / "queuecheck" / "dynalite"
    )
    module = home / "node_modules" / "dynalite"
    if (module / "package.json").exists():
        return module
    npm = shutil.which("npm")
    if npm is None:
        raise BackendError("--backend dynalite needs npm to install dynalite once")
    home.mkdir(parents=True, exist_ok=True)
    # pytest -n starts several workers at once: one installs, the others wait for it.
    with (home / ".install-lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (module / "package.json").exists():
            return module
        package = f"dynalite@{DYNALITE_VERSION}"
        print(f"queuecheck: installing {package} into {home} (once)", file=sys.stderr)
        try:
            done = subprocess.run(
                [npm, "install", "--prefix", str(home), "--no-audit", "--no-fund", package],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
                timeout=NPM_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise BackendError(
                f"npm did not install {package} within {NPM_TIMEOUT_S:.0f} s (behind a "
                "TLS-inspecting proxy node needs its CA in NODE_EXTRA_CA_CERTS)"
            ) from None
    if done.returncode != 0 or not (module / "package.json").exists():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise BackendError(f"npm could not install dynalite {DYNALITE_VERSION}: {last}")
    return module


def _dynalite() -> tuple[str, Any]:
    node = shutil.which("node")
    if node is None:
        raise BackendError("--backend dynalite needs node on PATH")
    env = {**os.environ, "QUEUECHECK_DYNALITE_MODULE": str(dynalite_module())}
    process = subprocess.Popen(
        [node, "-e", _DYNALITE_LAUNCHER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # its own process group: one signal reaches all of it
    )

    def stop() -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()

    try:
        port = json.loads(_first_line(process, START_TIMEOUT_S))["port"]
    except BaseException:
        stop()
        raise
    return f"http://127.0.0.1:{port}", stop


def _first_line(process: subprocess.Popen[bytes], timeout: float) -> bytes:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline, seen = time.monotonic() + timeout, b""
    try:
        while b"\n" not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise BackendError(f"dynalite did not start within {timeout:.0f} s")
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                last = (error.strip().splitlines() or ["no output"])[-1]
                raise BackendError(f"dynalite exited before it was ready: {last}")
            seen += chunk
    finally:
        selector.close()
    return seen.split(b"\n", 1)[0]
