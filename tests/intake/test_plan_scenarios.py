"""The six scenarios of the user's test plan, as plain tests against the reference handler."""

from __future__ import annotations

import json

from model.core.events import submit_event
from model.core.plans import Fault, FaultKind, Race, RaceKind
from model.harness.driver import Crashed

PUT, SEND, UPDATE = "dynamodb.PutItem", "sqs.SendMessage", "dynamodb.UpdateItem"
ORDER = {
    "messageId": "order-1001",
    "type": "order.created",
    "payload": {"orderId": "1001", "total": {"amount": 4250, "currency": "EUR"}},
    "attributes": {"tenant": "acme"},
}
LEAKS = ["Throttl", "ProvisionedThroughput", "arn:", "Traceback", "Error:", "dynamodb", "sqs"]


def assert_consistent(sandbox) -> None:
    """Every QUEUED-or-later record was sent, and every message belongs to a stored record."""
    items = sandbox.items()
    sent = {json.loads(body)["messageId"] for body, _ in sandbox.messages()}
    advanced = {key for key, item in items.items() if item["status"] != "PENDING"}
    assert set() == advanced - sent
    assert set() == sent - set(items)


def test_scenario_1_status_update_success(driver, sandbox, operations):
    """Scenario 1: a new message is stored PENDING, sent, then moved to QUEUED conditionally."""
    response = driver.submit(ORDER)

    assert 202 == response.status
    assert {"messageId": "order-1001", "status": "QUEUED", "duplicate": False} == response.body
    assert [PUT, SEND, UPDATE] == operations()
    item = sandbox.items()["order-1001"]
    assert ("QUEUED", 2) == (item["status"], item["version"])
    assert item["sqsMessageId"] and item["queuedAt"]
    assert [("order-1001", ORDER["payload"])] == [
        (json.loads(body)["messageId"], json.loads(body)["payload"])
        for body, _ in sandbox.messages()
    ]
    assert_consistent(sandbox)


def test_scenario_2a_conditional_update_consumer_first(driver, sandbox, write):
    """Scenario 2a: a consumer that advanced the record first is reported, never overwritten."""
    sandbox.injector.plan_race(
        Race(UPDATE, RaceKind.CONSUMER_ADVANCES),
        lambda: write("order-1001", status={"S": "PROCESSING"}),
    )

    response = driver.submit(ORDER)

    assert (202, "PROCESSING") == (response.status, response.body["status"])
    assert "PROCESSING" == sandbox.items()["order-1001"]["status"]
    assert_consistent(sandbox)


def test_scenario_2b_conditional_update_competing_invocation(driver, sandbox):
    """Scenario 2b: two invocations of one request racing to the update both succeed."""
    event = submit_event(ORDER, request_id="req-a")
    competitor = []
    sandbox.injector.plan_race(
        Race(UPDATE, RaceKind.COMPETING_INVOCATION),
        lambda: competitor.append(driver.invoke(event)),
    )

    response = driver.invoke(event)

    assert [202] == [r.status for r in competitor]
    assert (202, "QUEUED") == (response.status, response.body["status"])
    item = sandbox.items()["order-1001"]
    assert ("QUEUED", 2) == (item["status"], item["version"])
    assert_consistent(sandbox)


def test_scenario_3_rollback_on_sqs_failure_then_retry_completes(
    driver, sandbox, capture_before, raw_item, immutable
):
    """Scenario 3: SQS failing leaves the record PENDING and intact; a retry completes once."""
    created = capture_before(SEND, "order-1001")
    sandbox.injector.plan(Fault(SEND, FaultKind.SERVER_ERROR, times=None))

    failed = driver.submit(ORDER)

    assert (503, "SYSTEM_ERROR") == (failed.status, failed.error_code)
    assert "retry-after" in failed.headers
    assert "PENDING" == sandbox.items()["order-1001"]["status"]
    assert immutable(created[0]) == immutable(raw_item("order-1001"))
    assert [] == sandbox.messages()
    assert_consistent(sandbox)

    sandbox.injector.clear()
    retried = driver.submit(ORDER)

    assert (202, "QUEUED") == (retried.status, retried.body["status"])
    assert "QUEUED" == sandbox.items()["order-1001"]["status"]
    assert 1 == len(sandbox.messages())
    assert_consistent(sandbox)


def test_scenario_4a_update_throttling_absorbed_by_retries(driver, sandbox):
    """Scenario 4a: one throttled status update is retried by the SDK and succeeds."""
    sandbox.injector.plan(Fault(UPDATE, FaultKind.THROTTLE, times=1))

    response = driver.submit(ORDER)

    assert 1 == sandbox.injector.injected[(UPDATE, "throttle")]
    assert (202, "QUEUED") == (response.status, response.body["status"])
    assert "QUEUED" == sandbox.items()["order-1001"]["status"]


def test_scenario_4b_persistent_update_failure_is_system_error_without_internals(driver, sandbox):
    """Scenario 4b: a status update throttled past retries is a bare 503 SYSTEM_ERROR."""
    sandbox.injector.plan(Fault(UPDATE, FaultKind.THROTTLE, times=None))

    response = driver.submit(ORDER, request_id="req-4b")

    assert (503, "SYSTEM_ERROR") == (response.status, response.error_code)
    assert {"code", "message", "requestId"} == set(response.body["error"])
    assert "req-4b" == response.body["error"]["requestId"]
    assert [] == [leak for leak in LEAKS if leak.lower() in response.raw_body.lower()]
    assert "PENDING" == sandbox.items()["order-1001"]["status"]
    assert 1 == len(sandbox.messages())
    sandbox.injector.clear()
    assert (202, "QUEUED") == (driver.submit(ORDER).status, sandbox.items()["order-1001"]["status"])


def test_scenario_5_metadata_preservation(
    driver, sandbox, write, capture_before, raw_item, immutable
):
    """Scenario 5: queuing changes only the status-update fields; others' attributes survive."""
    created = capture_before(SEND, "order-1001")
    sandbox.injector.plan(Fault(UPDATE, FaultKind.CRASH))
    assert isinstance(driver.submit(ORDER), Crashed)
    write("order-1001", note={"S": "checked by ops"})

    driver.submit(ORDER)

    after = raw_item("order-1001")
    assert {"S": "QUEUED"} == after["status"]
    assert {"S": "checked by ops"} == after.pop("note")
    assert immutable(created[0]) == immutable(after)


def test_scenario_6_integration_flow_and_error_paths(driver, sandbox, queued):
    """Scenario 6: validate, dedup, store, queue, mark QUEUED; error paths stay consistent."""
    invalid = driver.submit({**ORDER, "type": "9-not-a-type"})
    assert (400, "VALIDATION_ERROR") == (invalid.status, invalid.error_code)
    assert ({}, []) == (sandbox.items(), sandbox.messages())

    accepted = driver.submit(ORDER)
    duplicate = driver.submit(ORDER)
    conflict = driver.submit({**ORDER, "payload": {"orderId": "other"}})
    assert (202, 200, 409) == (accepted.status, duplicate.status, conflict.status)
    assert True is duplicate.body["duplicate"]
    assert_consistent(sandbox)

    second = {**ORDER, "messageId": "order-1002"}
    sandbox.injector.plan(Fault(SEND, FaultKind.THROTTLE, times=None))
    assert 503 == driver.submit(second).status
    assert "PENDING" == sandbox.items()["order-1002"]["status"]
    assert_consistent(sandbox)

    sandbox.injector.clear()
    sandbox.injector.plan(Fault(UPDATE, FaultKind.SERVER_ERROR, times=None))
    assert 503 == driver.submit(second).status
    assert "PENDING" == sandbox.items()["order-1002"]["status"]
    assert_consistent(sandbox)

    sandbox.injector.clear()
    assert 202 == driver.submit(second).status
    assert {"order-1001": "QUEUED", "order-1002": "QUEUED"} == {
        key: item["status"] for key, item in sandbox.items().items()
    }
    assert {"order-1001", "order-1002"} == {body["messageId"] for body in queued()}
    assert ("QUEUED", "QUEUED") == (
        driver.get("order-1001").body["status"],
        driver.get("order-1002").body["status"],
    )
    assert_consistent(sandbox)
