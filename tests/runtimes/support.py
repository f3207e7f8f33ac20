"""Helpers of the out-of-process tests: where things are, what to skip, whether a process is
still there, and moto's server spoken to over plain HTTP.

The harness side talks to moto over plain HTTP here, not through boto3: in a pytest worker
where another suite started the in-process sandbox, botocore is patched to refuse every host
but moto's in-process one, and these tests must run in any worker.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
import pytest

from model.harness.runtimes import node
from model.harness.runtimes.process import RunnerError

ROOT = Path(__file__).resolve().parents[2]
NODE_EXAMPLES = ROOT / "examples" / "node"
COMMAND_EXAMPLES = ROOT / "examples" / "command"
HANDLERS = Path(__file__).resolve().parent / "handlers"
_names = itertools.count(1)


def node_or_skip() -> str:
    """The node to run, or a skip that says what is missing."""
    try:
        return node.node()
    except RunnerError as exc:
        pytest.skip(str(exc))


def sdk_or_skip() -> Path:
    """examples/node/node_modules (the pinned AWS SDK v3), or a skip that says how to get it."""
    node_or_skip()
    modules = NODE_EXAMPLES / "node_modules"
    if not (modules / "@aws-sdk" / "client-sqs").is_dir():
        pytest.skip(f"{modules} is missing: npm ci --prefix examples/node (or tox -e node)")
    return modules


def alive(pid: int) -> bool:
    """Whether a process with this pid exists (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return any(
        alive(int(entry))
        for entry in os.listdir("/proc")
        if entry.isdigit() and _pgid(int(entry)) == pgid
    )


def _pgid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[2])
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return None


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, their children, ...), from /proc."""
    found: set[int] = set()
    waiting = [pid]
    while waiting:
        parent = waiting.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as children:
                    waiting.extend(int(child) for child in children.read().split())
            except FileNotFoundError:
                continue
        found.update(child for child in waiting if child not in found)
    return {child for child in found if alive(child)}


def still_running(pids: Iterable[int], within_s: float) -> list[int]:
    """The processes of ``pids`` that have not ended within ``within_s`` (waited on with pidfds:
    a process killed by an exiting harness may take a moment to die)."""
    deadline = time.monotonic() + within_s
    left = []
    for pid in pids:
        try:
            descriptor = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            select.select([descriptor], [], [], max(0.0, deadline - time.monotonic()))
        finally:
            os.close(descriptor)
        if alive(pid):
            left.append(pid)
    return left


_WITH_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execvp(sys.argv[1], sys.argv[1:])"
)


@attrs.frozen
class Interrupted:
    """What a command did with a Ctrl-C: its exit status, what it wrote, and the processes it
    had started by then."""

    returncode: int
    stdout: str
    stderr: str
    children: frozenset[int]


def interrupt_once(
    command: list[str], started: Any, *, cwd: Path, env: dict[str, str]
) -> Interrupted:
    """Run ``command``, send it SIGINT once ``started(pid)`` says it is under way (as a terminal's
    Ctrl-C does), and wait for it to end.

    ``command`` is started with SIGINT's default action back: a non-interactive shell starts
    its background jobs with SIGINT ignored, an ignored signal stays ignored across exec, and
    Python keeps an ignored SIGINT ignored."""
    process = subprocess.Popen(
        [sys.executable, "-c", _WITH_SIGINT, *command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not started(process.pid):
            if process.poll() is not None or time.monotonic() > deadline:
                out, err = process.communicate()
                raise AssertionError(f"the run never got under way ({process.returncode}): {err}")
            time.sleep(0.05)  # polling for a condition, not waiting for time to pass
        children = frozenset(descendants(process.pid))
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return Interrupted(process.returncode, out, err, children)


@attrs.define
class Moto:
    """moto's threaded server, spoken to in the AWS JSON protocols over plain HTTP."""

    url: str

    def call(self, service: str, operation: str, payload: dict[str, Any]) -> Any:
        target = {"dynamodb": "DynamoDB_20120810", "sqs": "AmazonSQS"}[service]
        request = urllib.request.Request(
            self.url + "/",
            data=json.dumps(payload).encode(),
            headers={
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": f"{target}.{operation}",
                "Authorization": (
                    "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/"
                    f"{service}/aws4_request, SignedHeaders=host, Signature=0"
                ),
            },
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read() or b"{}")

    def table(self, *key: str) -> str:
        name = f"runtimes-{next(_names)}-{os.getpid()}"
        self.call(
            "dynamodb",
            "CreateTable",
            {
                "TableName": name,
                "KeySchema": [
                    {"AttributeName": attribute, "KeyType": kind}
                    for attribute, kind in zip(key, ("HASH", "RANGE"), strict=False)
                ],
                "AttributeDefinitions": [
                    {"AttributeName": attribute, "AttributeType": "S"} for attribute in key
                ],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
        return name

    def queue(self) -> str:
        name = f"runtimes-{next(_names)}-{os.getpid()}"
        return str(self.call("sqs", "CreateQueue", {"QueueName": name})["QueueUrl"])

    def items(self, table: str) -> list[dict[str, Any]]:
        """Every item, as DynamoDB's typed JSON."""
        found = self.call("dynamodb", "Scan", {"TableName": table, "ConsistentRead": True})
        return list(found.get("Items", []))

    def bodies(self, queue_url: str) -> list[str]:
        """Every message body in the queue (read, then left invisible for a long while)."""
        bodies: list[str] = []
        while True:
            found = self.call(
                "sqs",
                "ReceiveMessage",
                {"QueueUrl": queue_url, "MaxNumberOfMessages": 10, "VisibilityTimeout": 600},
            )
            if not found.get("Messages"):
                return bodies
            bodies.extend(message["Body"] for message in found["Messages"])
