"""Metadata preservation: a status update changes only the status-update fields."""

from __future__ import annotations

import pytest

from model.core.events import submit_event
from model.core.plans import Fault, FaultKind, Race, RaceKind

PUT, SEND, UPDATE = "dynamodb.PutItem", "sqs.SendMessage", "dynamodb.UpdateItem"
ID = "meta-1"
STATUS_UPDATE_FIELDS = {
    "status",
    "updatedAt",
    "queuedAt",
    "sqsMessageId",
    "version",
    "lastError",
    "enqueueAttempts",
}
RICH = {
    "messageId": ID,
    "type": "invoice.issued",
    "payload": {
        "z": 1.5,
        "name": "Zo\u00eb \U0001f600",
        "lines": [{"sku": "a", "n": 2}],
        "a": None,
    },
    "attributes": {"tenant": "t-1", "trace.id": "0af7651916cd43dd8448eb211c80319c"},
}


def finish_directly(driver, sandbox):
    driver.submit(RICH, request_id="req-meta")


def finish_after_send_failure(driver, sandbox):
    sandbox.injector.plan(Fault(SEND, FaultKind.THROTTLE, times=None))
    driver.submit(RICH, request_id="req-meta")
    sandbox.injector.clear()
    driver.submit(RICH, request_id="req-retry")


def finish_after_crash_at_send(driver, sandbox):
    sandbox.injector.plan(Fault(SEND, FaultKind.CRASH))
    driver.submit(RICH, request_id="req-meta")
    driver.submit(RICH, request_id="req-retry")


def finish_after_update_failure(driver, sandbox):
    sandbox.injector.plan(Fault(UPDATE, FaultKind.SERVER_ERROR, times=None))
    driver.submit(RICH, request_id="req-meta")
    sandbox.injector.clear()
    driver.submit(RICH, request_id="req-retry")


def finish_after_crash_at_update(driver, sandbox):
    sandbox.injector.plan(Fault(UPDATE, FaultKind.CRASH))
    driver.submit(RICH, request_id="req-meta")
    driver.submit(RICH, request_id="req-retry")


def finish_after_lost_update(driver, sandbox):
    sandbox.injector.plan(Fault(UPDATE, FaultKind.APPLIED_LOST, times=1))
    driver.submit(RICH, request_id="req-meta")


def finish_with_competitor(driver, sandbox):
    event = submit_event(RICH, request_id="req-other")
    sandbox.injector.plan_race(
        Race(UPDATE, RaceKind.COMPETING_INVOCATION, after=0), lambda: driver.invoke(event)
    )
    driver.submit(RICH, request_id="req-meta")


@pytest.mark.parametrize(
    "finish",
    [
        finish_directly,
        finish_after_send_failure,
        finish_after_crash_at_send,
        finish_after_update_failure,
        finish_after_crash_at_update,
        finish_after_lost_update,
        finish_with_competitor,
    ],
    ids=lambda f: f.__name__.removeprefix("finish_"),
)
def test_queued_record_keeps_its_creation_metadata(
    driver, sandbox, capture_before, raw_item, immutable, finish
):
    """After queuing, every attribute but the status-update fields is as PutItem created it."""
    created = capture_before(SEND, ID)

    finish(driver, sandbox)

    after = raw_item(ID)
    assert {"S": "QUEUED"} == after["status"]
    assert {"S": "req-meta"} == created[0]["requestId"]
    assert immutable(created[0]) == immutable(after)


def test_status_update_touches_only_status_fields(driver, sandbox, capture_before, raw_item):
    """The attributes that differ between creation and QUEUED are all status-update fields."""
    created = capture_before(SEND, ID)

    driver.submit(RICH)

    before, after = created[0], raw_item(ID)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert {"status", "queuedAt", "sqsMessageId", "version"} <= changed
    assert changed <= STATUS_UPDATE_FIELDS


def test_rollback_keeps_creation_metadata(driver, sandbox, capture_before, raw_item, immutable):
    """A failed send's bookkeeping keeps every immutable attribute and the status PENDING."""
    created = capture_before(SEND, ID)
    sandbox.injector.plan(Fault(SEND, FaultKind.SERVER_ERROR, times=None))

    driver.submit(RICH)

    after = raw_item(ID)
    assert ({"S": "PENDING"}, {"N": "1"}) == (after["status"], after["version"])
    assert immutable(created[0]) == immutable(after)


def test_other_writers_attribute_survives_bookkeeping_and_queuing(driver, sandbox, write):
    """An attribute another writer added (``note``) survives the rollback and the status update."""
    sandbox.injector.plan(Fault(SEND, FaultKind.THROTTLE, times=None))
    driver.submit(RICH)
    write(ID, note={"S": "added by ops"})
    driver.submit(RICH)
    sandbox.injector.clear()

    response = driver.submit(RICH)

    assert 202 == response.status
    item = sandbox.items()[ID]
    assert ("QUEUED", "added by ops") == (item["status"], item["note"])


def test_attribute_written_just_before_status_update_survives(driver, sandbox, write):
    """An attribute written between send and status update is not overwritten by the update."""
    sandbox.injector.plan_race(
        Race(UPDATE, RaceKind.CONSUMER_ADVANCES), lambda: write(ID, note={"S": "late"})
    )

    driver.submit(RICH)

    item = sandbox.items()[ID]
    assert ("QUEUED", "late") == (item["status"], item["note"])


def test_duplicate_and_conflict_change_nothing(driver, sandbox, raw_item):
    """Neither a duplicate nor a conflicting resubmission changes a single attribute."""
    driver.submit(RICH)
    before = raw_item(ID)

    duplicate = driver.submit(RICH, request_id="req-dup")
    conflict = driver.submit({**RICH, "payload": {"other": 1}}, request_id="req-conflict")

    assert (200, 409) == (duplicate.status, conflict.status)
    assert before == raw_item(ID)


def test_consumer_status_is_kept_by_a_late_resubmission(driver, sandbox, write, raw_item):
    """A resubmission after a consumer advanced the record changes nothing about it."""
    driver.submit(RICH)
    write(ID, status={"S": "DELIVERED"})
    before = raw_item(ID)

    response = driver.submit(RICH)

    assert (200, "DELIVERED") == (response.status, response.body["status"])
    assert before == raw_item(ID)
