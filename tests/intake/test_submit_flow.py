"""Steps 2-5 of POST /messages without faults: store, queue, mark QUEUED; duplicates; conflicts."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime

import pytest

from model.core.plans import Fault, FaultKind, Race, RaceKind

ISO_MILLIS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
CALLS = ["dynamodb.PutItem", "sqs.SendMessage", "dynamodb.UpdateItem"]


def epoch(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_new_message_makes_exactly_put_send_update(driver, operations, message):
    """The happy path is one PutItem, one SendMessage, one UpdateItem, in that order."""
    driver.submit(message)

    assert CALLS == operations()


def test_stored_item_has_every_contract_attribute(driver, sandbox, message):
    """The QUEUED item carries every attribute the contract lists, with the right values."""
    message["payload"] = {"z": [1, {"b": True, "a": None}], "a": "x"}
    message["attributes"] = {"tenant": "t-1", "trace.id": "abc"}
    before = time.time()
    response = driver.submit(message, request_id="req-item-1")
    after = time.time()

    message_id = response.body["messageId"]
    item = sandbox.items()[message_id]
    assert {
        "messageId",
        "type",
        "payload",
        "attributes",
        "payloadHash",
        "status",
        "createdAt",
        "updatedAt",
        "ttl",
        "version",
        "requestId",
        "queuedAt",
        "sqsMessageId",
    } <= set(item)
    assert message_id == item["messageId"]
    assert "order.created" == item["type"]
    assert canonical(message["payload"]) == item["payload"]
    assert '{"a":"x","z":[1,{"a":null,"b":true}]}' == item["payload"]
    assert {"tenant": "t-1", "trace.id": "abc"} == item["attributes"]
    assert message_id == item["payloadHash"]
    assert "QUEUED" == item["status"]
    assert "req-item-1" == item["requestId"]
    assert 2 == item["version"]
    for name in ("createdAt", "updatedAt", "queuedAt"):
        assert ISO_MILLIS.fullmatch(item[name]), name
        assert before - 1 <= epoch(item[name]) <= after + 1, name
    assert item["createdAt"] <= item["queuedAt"]
    assert item["createdAt"] <= item["updatedAt"]
    assert isinstance(item["sqsMessageId"], str) and item["sqsMessageId"]


def test_item_is_pending_with_version_1_at_creation(driver, sandbox, message):
    """Right after PutItem (before the send) the item is PENDING, version 1, no SQS fields."""
    seen = []
    sandbox.injector.plan_race(
        Race("sqs.SendMessage", RaceKind.COMPETING_INVOCATION),
        lambda: seen.append(dict(next(iter(sandbox.items().values())))),
    )

    driver.submit(message)

    [created] = seen
    assert ("PENDING", 1) == (created["status"], created["version"])
    assert set() == {"queuedAt", "sqsMessageId"} & set(created)


def test_sqs_message_id_is_recorded(driver, sandbox, sqs, message):
    """The item's ``sqsMessageId`` is the id SQS gave the message."""
    message_id = driver.submit(message).body["messageId"]

    with sandbox.injector.pause():
        received = sqs.receive_message(QueueUrl=sandbox.queue_url, MaxNumberOfMessages=10)
    assert [sandbox.items()[message_id]["sqsMessageId"]] == [
        m["MessageId"] for m in received["Messages"]
    ]


def test_duplicate_of_queued_record_is_200_and_sends_nothing(driver, sandbox, operations, message):
    """A resubmission of a QUEUED record answers 200 duplicate, with one PutItem and no send."""
    first = driver.submit(message)
    item = sandbox.items()[first.body["messageId"]]
    sandbox.injector.attempts.clear()

    again = driver.submit(message)

    assert 200 == again.status
    assert {"messageId": first.body["messageId"], "status": "QUEUED", "duplicate": True} == (
        again.body
    )
    assert ["dynamodb.PutItem"] == operations()
    assert {first.body["messageId"]: item} == sandbox.items()
    assert 1 == len(sandbox.messages())


@pytest.mark.parametrize("status", ["PROCESSING", "DELIVERED", "FAILED"])
def test_duplicate_reports_the_current_status(driver, sandbox, write, message, status):
    """A duplicate of a record a consumer moved on reports that status, and writes nothing."""
    message_id = driver.submit(message).body["messageId"]
    write(message_id, status={"S": status})
    item = sandbox.items()[message_id]

    again = driver.submit(message)

    assert (200, status, True) == (again.status, again.body["status"], again.body["duplicate"])
    assert item == sandbox.items()[message_id]
    assert 1 == len(sandbox.messages())


def test_duplicate_by_idempotency_key(driver, sandbox, message):
    """Two submissions with the same key and content are one record, one message."""
    first = driver.submit(message, {"Idempotency-Key": "k-1"})
    again = driver.submit(message, {"Idempotency-Key": "k-1"})

    assert (202, 200) == (first.status, again.status)
    assert ["k-1"] == list(sandbox.items())
    assert 1 == len(sandbox.messages())


@pytest.mark.parametrize(
    "change",
    [
        {"payload": {"orderId": "o-2"}},
        {"type": "order.cancelled"},
        {"attributes": {"k": "v"}},
    ],
    ids=["payload", "type", "attributes"],
)
def test_same_id_other_content_is_a_conflict(driver, sandbox, operations, message, change):
    """Reusing an id for different content is 409 IDEMPOTENCY_CONFLICT; nothing changes."""
    message["messageId"] = "conflict-1"
    driver.submit(message)
    item = sandbox.items()["conflict-1"]
    sandbox.injector.attempts.clear()

    response = driver.submit({**message, **change})

    assert 409 == response.status
    assert "IDEMPOTENCY_CONFLICT" == response.error_code
    assert {"conflict-1": item} == sandbox.items()
    assert 1 == len(sandbox.messages())
    assert ["dynamodb.PutItem"] == operations()


def test_conflict_with_a_pending_record(driver, sandbox, message):
    """Other content under the id of a PENDING record is a conflict too, and sends nothing."""
    message["messageId"] = "conflict-2"
    sandbox.injector.plan(Fault("sqs.SendMessage", FaultKind.THROTTLE, times=None))
    driver.submit(message)
    sandbox.injector.clear()
    item = sandbox.items()["conflict-2"]

    response = driver.submit({**message, "payload": {"other": True}})

    assert 409 == response.status
    assert {"conflict-2": item} == sandbox.items()
    assert [] == sandbox.messages()


def test_pending_record_is_resumed_by_a_retry(driver, sandbox, operations, message):
    """A retry of a request whose send failed sends once and ends QUEUED with 202."""
    sandbox.injector.plan(Fault("sqs.SendMessage", FaultKind.THROTTLE, times=None))
    failed = driver.submit(message)
    sandbox.injector.clear()
    sandbox.injector.attempts.clear()

    retried = driver.submit(message)

    assert 503 == failed.status
    assert (202, "QUEUED", False) == (
        retried.status,
        retried.body["status"],
        retried.body["duplicate"],
    )
    assert CALLS == operations()
    assert "QUEUED" == sandbox.items()[retried.body["messageId"]]["status"]
    assert 1 == len(sandbox.messages())


def test_expired_record_is_replaced_by_new_content(driver, sandbox, queued, expire, message):
    """An expired record may be replaced by a new submission, even with other content."""
    message["messageId"] = "reuse-1"
    driver.submit(message)
    expire("reuse-1")

    response = driver.submit({**message, "payload": {"new": True}}, request_id="req-new")

    item = sandbox.items()["reuse-1"]
    assert (202, "QUEUED") == (response.status, response.body["status"])
    assert ('{"new":true}', "QUEUED", 2, "req-new") == (
        item["payload"],
        item["status"],
        item["version"],
        item["requestId"],
    )
    assert item["ttl"] > time.time()
    assert [message["payload"], {"new": True}] == [body["payload"] for body in queued()]


def test_expired_record_with_same_content_is_queued_again(driver, sandbox, expire, message):
    """An expired record is not a duplicate: the same content is stored and sent anew."""
    message_id = driver.submit(message).body["messageId"]
    expire(message_id)

    response = driver.submit(message)

    assert (202, False) == (response.status, response.body["duplicate"])
    assert 2 == len(sandbox.messages())
    assert sandbox.items()[message_id]["ttl"] > time.time()


def test_event_without_request_id_is_accepted(driver, sandbox, message):
    """An event without ``requestContext.requestId`` is still submitted normally."""
    from model.core.events import submit_event

    event = submit_event(message)
    del event["requestContext"]["requestId"]

    response = driver.invoke(event)

    assert 202 == response.status
