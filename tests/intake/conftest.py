"""Shared fixtures for the black-box tests of the reference handler (DESIGN.md section 1).

Helpers live here as fixtures: with ``pythonpath = ["tests"]`` a helper module in this folder
would be importable only as ``reference.<name>``, next to the package under test.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from model.core.events import Response
from model.core.plans import Race, RaceKind
from model.harness.driver import Crashed, LambdaContext
from model.harness.sandbox import Sandbox, start

# What no answer of the handler may show: AWS and SDK names, exception text, internals, the
# names of its configuration (compared in lower case).
FORBIDDEN = [
    "arn:",
    "123456789012",
    "amazonaws",
    "Throttl",
    "AccessDenied",
    "ProvisionedThroughput",
    "InternalServerError",
    "InternalError",
    "ConditionalCheck",
    "Traceback",
    'File "',
    "Error:",
    "Exception",
    "ClientError",
    "BotoCoreError",
    "StoreError",
    "QueueError",
    "DependencyError",
    "ConfigError",
    "TypeError",
    "ConnectTimeout",
    "EndpointConnection",
    "ReadTimeout",
    "botocore",
    "boto3",
    "moto",
    "dynamodb",
    "sqs",
    "PutItem",
    "SendMessage",
    "UpdateItem",
    "GetItem",
    "injected",
    "MESSAGES_TABLE",
    "MESSAGES_QUEUE_URL",
    "MESSAGE_TTL_SECONDS",
]
DOCUMENTED = {
    "VALIDATION_ERROR": {400},
    "NOT_FOUND": {404},
    "METHOD_NOT_ALLOWED": {405},
    "IDEMPOTENCY_CONFLICT": {409},
    "PAYLOAD_TOO_LARGE": {413},
    "UNSUPPORTED_MEDIA_TYPE": {415},
    "SYSTEM_ERROR": {500, 503},
}
STATUS_UPDATE_FIELDS = frozenset(
    {"status", "updatedAt", "queuedAt", "sqsMessageId", "version", "lastError", "enqueueAttempts"}
)


@pytest.fixture
def message() -> dict[str, Any]:
    """A valid submission body, fresh for every test."""
    return {"type": "order.created", "payload": {"orderId": "o-1", "amount": 12}}


@pytest.fixture
def operations(sandbox: Sandbox) -> Callable[[], list[str]]:
    """The AWS operations the handler attempted so far, one entry per HTTP attempt."""
    return lambda: [attempt.operation for attempt in sandbox.injector.attempts]


@pytest.fixture
def queued(sandbox: Sandbox) -> Callable[[], list[dict[str, Any]]]:
    """The queue's message bodies, parsed as JSON."""
    return lambda: [json.loads(body) for body, _ in sandbox.messages()]


@pytest.fixture
def nothing_happened(sandbox: Sandbox) -> Callable[[], None]:
    """Asserts that no item, no message and no AWS call exists."""

    def check() -> None:
        assert {} == sandbox.items()
        assert [] == sandbox.messages()
        assert [] == sandbox.injector.attempts

    return check


@pytest.fixture(scope="session")
def dynamodb(handler: Any) -> Any:
    """A DynamoDB client for direct writes by "other writers" (use inside ``injector.pause()``)."""
    return start().client("dynamodb")


@pytest.fixture(scope="session")
def sqs(handler: Any) -> Any:
    """An SQS client for the tests' own reads (use inside ``injector.pause()``)."""
    return start().client("sqs")


@pytest.fixture
def write(sandbox: Sandbox, dynamodb: Any) -> Callable[..., None]:
    """Another writer's direct ``SET`` on an item: ``write(id, status={"S": "PROCESSING"})``."""

    def update(message_id: str, **values: dict[str, str]) -> None:
        names = {f"#a{i}": name for i, name in enumerate(values)}
        typed = {f":v{i}": value for i, value in enumerate(values.values())}
        assignments = ", ".join(f"#a{i} = :v{i}" for i in range(len(values)))
        with sandbox.injector.pause():
            dynamodb.update_item(
                TableName=sandbox.table_name,
                Key={"messageId": {"S": message_id}},
                UpdateExpression=f"SET {assignments}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=typed,
            )

    return update


@pytest.fixture
def expire(write: Callable[..., None]) -> Callable[[str], None]:
    """Moves an item's ``ttl`` into the past: expired, still readable, not yet deleted."""
    return lambda message_id: write(message_id, ttl={"N": str(int(time.time()) - 3600)})


@pytest.fixture
def raw_item(sandbox: Sandbox, dynamodb: Any) -> Callable[[str], dict[str, Any]]:
    """An item exactly as DynamoDB returns it (typed attribute values), read consistently."""

    def read(message_id: str) -> dict[str, Any]:
        with sandbox.injector.pause():
            response = dynamodb.get_item(
                TableName=sandbox.table_name,
                Key={"messageId": {"S": message_id}},
                ConsistentRead=True,
            )
        return dict(response.get("Item", {}))

    return read


@pytest.fixture
def invoke_raw(handler: Any, sandbox: Sandbox) -> Callable[..., Response]:
    """Calls the handler with any event, without the driver refreshing its environment."""

    def invoke(event: Any, request_id: str = "ctx-req") -> Response:
        return Response.parse(handler(event, LambdaContext(request_id)))

    return invoke


@pytest.fixture
def capture_before(
    sandbox: Sandbox, raw_item: Callable[[str], dict[str, Any]]
) -> Callable[[str, str], list[dict[str, Any]]]:
    """Snapshots an item (typed, as DynamoDB holds it) just before the first attempt of a call.

    It uses the injector's race hook as an observer: the "race" only reads.

    ``snapshots = capture_before("sqs.SendMessage", "id-1")`` fills ``snapshots`` with one
    item when the handler reaches that call: e.g. the record exactly as PutItem created it.
    """

    def plan(operation: str, message_id: str) -> list[dict[str, Any]]:
        snapshots: list[dict[str, Any]] = []
        sandbox.injector.plan_race(
            Race(operation, RaceKind.COMPETING_INVOCATION),
            lambda: snapshots.append(raw_item(message_id)),
        )
        return snapshots

    return plan


@pytest.fixture
def immutable() -> Callable[[dict[str, Any]], dict[str, Any]]:
    """An item without its status-update fields: what must never change after creation."""
    return lambda item: {k: v for k, v in item.items() if k not in STATUS_UPDATE_FIELDS}


@pytest.fixture
def assert_clean(sandbox: Sandbox) -> Callable[[Response | Crashed, str], None]:
    """Asserts an error answer has the documented shape, carries the event's requestId, and
    shows nothing from the inside (``FORBIDDEN``, the table's and the queue's names)."""

    def check(response: Response | Crashed, request_id: str) -> None:
        assert not isinstance(response, Crashed)
        error = response.body["error"]
        assert {"error"} == set(response.body)
        expected_keys = {"code", "message", "requestId"}
        if error["code"] == "VALIDATION_ERROR":
            expected_keys.add("details")
        assert expected_keys == set(error)
        assert response.status in DOCUMENTED[error["code"]]
        assert request_id == error["requestId"]
        assert isinstance(error["message"], str) and error["message"]
        visible = response.raw_body + json.dumps(response.headers)
        for fragment in [*FORBIDDEN, sandbox.table_name, sandbox.queue_url, "queuecheck-intake"]:
            assert fragment.lower() not in visible.lower(), fragment

    return check
