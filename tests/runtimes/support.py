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
import urllib.request
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
