"""``--backend aws`` against a moto server standing in for the account: what it creates is
named for the run, tagged, reported, and deleted at the end, also after Ctrl-C."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="signals")
VERIFY = (sys.executable, "-m", "model.entrypoints.verify", "--backend", "aws")
SERVER_START_S = 60
"""How long moto's server may take to say it listens before the test gives up on it."""
RUN_START_S = 120
"""How long a verify run may take to report the table it created."""


class Lines:
    """A child's text stream read on a thread of its own, so that a test waits for a line with
    a deadline and fails saying what it waited for, instead of hanging in ``readline``."""

    def __init__(self, stream: Iterable[str], who: str) -> None:
        self.who = who
        self.seen: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: Iterable[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)  # end of stream

    def _next(self, deadline: float, waiting_for: str) -> str | None:
        try:
            return self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            pass
        pytest.fail(
            f"{self.who} wrote no line containing {waiting_for!r} within its time; "
            f"it wrote: {''.join(self.seen)[-2000:]!r}"
        )

    def wait_for(self, text: str, seconds: float) -> str:
        """The first line (from here on) containing ``text``; fails if none comes in time or
        the stream ends first."""
        deadline = time.monotonic() + seconds
        while (line := self._next(deadline, text)) is not None:
            self.seen.append(line)
            if text in line:
                return line
        pytest.fail(
            f"{self.who} closed its stream before writing {text!r}; "
            f"it wrote: {''.join(self.seen)[-2000:]!r}"
        )

    def rest(self, seconds: float) -> str:
        """Everything written until the stream ends; fails if it does not end in time."""
        deadline = time.monotonic() + seconds
        start = len(self.seen)
        while (line := self._next(deadline, "the end of its stream")) is not None:
            self.seen.append(line)
        return "".join(self.seen[start:])


@pytest.fixture(scope="module")
def stand_in():
    """moto's server in a process of its own, on a free port of 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert server.stderr is not None
    log = Lines(server.stderr, "moto's server")  # also drains its request log from then on
    try:
        log.wait_for("Running on", SERVER_START_S)  # werkzeug says so once it listens
    except BaseException:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
        raise
    url = f"http://127.0.0.1:{port}"
    yield url
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(10)


def _environment(url: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("CI", "QUEUECHECK_BACKEND")}
    environment.update(
        QUEUECHECK_REAL_AWS="1",
        QUEUECHECK_AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    return environment


LIST = """
import json, sys, boto3
session = boto3.session.Session(region_name="us-east-1")
tables = session.client("dynamodb", endpoint_url=sys.argv[1]).list_tables()["TableNames"]
queues = session.client("sqs", endpoint_url=sys.argv[1]).list_queues().get("QueueUrls", [])
print(json.dumps([tables, queues]))
"""


def _left_over(url: str) -> tuple[list[str], list[str]]:
    """What the stand-in account holds, asked from a process of its own: this one's sandbox
    refuses every endpoint but moto's, as it should."""
    environment = {**_environment(url), "AWS_SESSION_TOKEN": "testing"}
    done = subprocess.run(
        [sys.executable, "-c", LIST, url],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    tables, queues = json.loads(done.stdout)
    return tables, queues


def test_a_run_creates_tagged_resources_and_deletes_them(stand_in):
    """A run on the (stand-in) account creates a table and a queue named and tagged for the
    run, says so, passes, and leaves nothing behind."""
    done = subprocess.run(
        [*VERIFY, "--profile", "ci", "--max-examples", "3"],
        env=_environment(stand_in),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "RESULT: PASS" in done.stdout
    assert "created table queuecheck-messages-" in done.stderr
    assert "tagged queuecheck-run=" in done.stderr
    assert "requests; deleted queue" in done.stderr and "table queuecheck-messages-" in done.stderr
    assert ([], []) == _left_over(stand_in)


def test_ctrl_c_still_deletes_what_the_run_created(stand_in):
    """Interrupted with SIGINT once it has created its table, a run still deletes what it
    created and says so."""
    run = subprocess.Popen(
        [*VERIFY, "--profile", "thorough"],
        env=_environment(stand_in),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert run.stderr is not None
    stderr = Lines(run.stderr, "the verify run")
    try:
        stderr.wait_for("created table", RUN_START_S)
        run.send_signal(signal.SIGINT)
        rest = stderr.rest(120)
        run.wait(10)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(10)
    assert "deleted queue" in rest, rest
    assert ([], []) == _left_over(stand_in)
