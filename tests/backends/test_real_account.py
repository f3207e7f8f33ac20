"""``--backend aws`` against a moto server standing in for the account: what it creates is
named for the run, tagged, reported, and deleted at the end, also after Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="signals")
VERIFY = (sys.executable, "-m", "model.entrypoints.verify", "--backend", "aws")


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
    for line in server.stderr:  # werkzeug says so once it listens
        if "Running on" in line:
            break
    threading.Thread(target=server.stderr.read, daemon=True).start()  # its request log
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
    run = subprocess.Popen(
        [*VERIFY, "--profile", "thorough"],
        env=_environment(stand_in),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert run.stderr is not None
    first = run.stderr.readline()
    assert "created table" in first, first
    run.send_signal(signal.SIGINT)
    rest = run.communicate(timeout=120)[1]
    assert "deleted queue" in rest, rest
    assert ([], []) == _left_over(stand_in)
