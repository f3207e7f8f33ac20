"""Races at the handler's calls: a consumer moving on, a competing invocation, expiry."""

from __future__ import annotations

import pytest

from model.core.events import submit_event
from model.core.plans import Race, RaceKind

PUT, SEND, UPDATE = "dynamodb.PutItem", "sqs.SendMessage", "dynamodb.UpdateItem"
ID = "race-1"


@pytest.fixture
def keyed(message):
    return {**message, "messageId": ID}


@pytest.mark.parametrize("at", [SEND, UPDATE])
@pytest.mark.parametrize("status", ["PROCESSING", "DELIVERED", "FAILED"])
def test_consumer_first_is_success_with_its_status(
    driver, sandbox, write, queued, keyed, at, status
):
    """A consumer that moves the record on first: success reporting that status, never undone,
    and the one message sent is this request's."""
    sandbox.injector.plan_race(
        Race(at, RaceKind.CONSUMER_ADVANCES), lambda: write(ID, status={"S": status})
    )

    response = driver.submit(keyed)

    assert 1 == sandbox.injector.injected[(at, "race:consumer_advances")]
    assert (202, status) == (response.status, response.body["status"])
    item = sandbox.items()[ID]
    assert (status, 1) == (item["status"], item["version"])
    assert "queuedAt" not in item
    assert [ID] == [body["messageId"] for body in queued()]


def test_competing_invocation_at_update_both_succeed(driver, sandbox, queued, keyed):
    """Two invocations of one request racing to the status update both succeed: the record is
    QUEUED once (version 2), and each sent its message (the inner one resumed the PENDING
    record it found: at-least-once)."""
    event = submit_event(keyed, request_id="req-outer")
    inner = []
    sandbox.injector.plan_race(
        Race(UPDATE, RaceKind.COMPETING_INVOCATION), lambda: inner.append(driver.invoke(event))
    )

    outer = driver.invoke(event)

    assert [(202, "QUEUED")] == [(r.status, r.body["status"]) for r in inner]
    assert (202, "QUEUED") == (outer.status, outer.body["status"])
    item = sandbox.items()[ID]
    assert ("QUEUED", 2) == (item["status"], item["version"])
    assert [ID, ID] == [body["messageId"] for body in queued()]


def test_competing_invocation_at_send_both_succeed(driver, sandbox, queued, keyed):
    """A competing invocation that finishes while this one is about to send: both succeed."""
    event = submit_event(keyed, request_id="req-outer")
    inner = []
    sandbox.injector.plan_race(
        Race(SEND, RaceKind.COMPETING_INVOCATION), lambda: inner.append(driver.invoke(event))
    )

    outer = driver.invoke(event)

    assert [202] == [r.status for r in inner]
    assert (202, "QUEUED") == (outer.status, outer.body["status"])
    assert ("QUEUED", 2) == (sandbox.items()[ID]["status"], sandbox.items()[ID]["version"])
    assert {ID} == {body["messageId"] for body in queued()}


def test_competing_invocation_at_put_makes_this_one_a_duplicate(driver, sandbox, keyed):
    """If the other invocation completes before our PutItem, ours is a 200 duplicate."""
    event = submit_event(keyed, request_id="req-outer")
    inner = []
    sandbox.injector.plan_race(
        Race(PUT, RaceKind.COMPETING_INVOCATION), lambda: inner.append(driver.invoke(event))
    )

    outer = driver.invoke(event)

    assert [202] == [r.status for r in inner]
    assert (200, True, "QUEUED") == (outer.status, outer.body["duplicate"], outer.body["status"])
    assert 1 == len(sandbox.messages())


def test_record_vanishing_before_update_is_never_reported_queued(driver, sandbox, dynamodb, keyed):
    """If the record is deleted before the status update, no 2xx claims it; a retry recovers."""

    def vanish() -> None:
        dynamodb.delete_item(TableName=sandbox.table_name, Key={"messageId": {"S": ID}})

    sandbox.injector.plan_race(Race(UPDATE, RaceKind.RECORD_VANISHES), vanish)

    response = driver.submit(keyed)

    items = sandbox.items()
    assert response.status >= 500 or "QUEUED" == items.get(ID, {}).get("status")
    retried = driver.submit(keyed)
    assert (202, "QUEUED") == (retried.status, sandbox.items()[ID]["status"])


def test_record_replaced_after_expiry_is_not_claimed(driver, sandbox, expire, keyed):
    """A record that expires and is replaced by other content mid-flight is not ours to claim."""
    replacement = {**keyed, "payload": {"replacement": True}}
    inner = []

    def replace() -> None:
        expire(ID)
        inner.append(driver.invoke(submit_event(replacement, request_id="req-other")))

    sandbox.injector.plan_race(Race(UPDATE, RaceKind.RECORD_EXPIRES), replace)

    response = driver.submit(keyed)

    assert [202] == [r.status for r in inner]
    assert not 200 <= response.status < 300
    item = sandbox.items()[ID]
    assert ('{"replacement":true}', "QUEUED", 2) == (
        item["payload"],
        item["status"],
        item["version"],
    )
