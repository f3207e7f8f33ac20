"""Faults injected into each AWS call: absorbed, answered 503/500 with rollback, and resumed."""

from __future__ import annotations

import pytest

from model.core.plans import Fault, FaultKind
from model.harness.driver import Crashed

PUT, SEND, UPDATE, GET = (
    "dynamodb.PutItem",
    "sqs.SendMessage",
    "dynamodb.UpdateItem",
    "dynamodb.GetItem",
)
RETRYABLE = [
    FaultKind.THROTTLE,
    FaultKind.SERVER_ERROR,
    FaultKind.TIMEOUT,
    FaultKind.CONNECTION_ERROR,
]
ID = "fault-1"


@pytest.fixture
def keyed(message):
    """The test message under a known id."""
    return {**message, "messageId": ID}


def assert_retry_later(response) -> None:
    assert 503 == response.status
    assert "SYSTEM_ERROR" == response.error_code
    assert int(response.headers["retry-after"]) > 0


def assert_internal(response) -> None:
    assert 500 == response.status
    assert "SYSTEM_ERROR" == response.error_code
    assert "retry-after" not in response.headers


@pytest.mark.parametrize("kind", RETRYABLE)
@pytest.mark.parametrize("operation", [PUT, SEND, UPDATE])
def test_single_retryable_fault_is_absorbed(driver, sandbox, keyed, operation, kind):
    """One throttle, 5xx, timeout or connection error of any call is absorbed by retries."""
    sandbox.injector.plan(Fault(operation, kind, times=1))

    response = driver.submit(keyed)

    assert 1 == sandbox.injector.injected[(operation, str(kind))]
    assert (202, "QUEUED") == (response.status, response.body["status"])
    assert "QUEUED" == sandbox.items()[ID]["status"]
    assert 1 == len(sandbox.messages())


@pytest.mark.parametrize("kind", RETRYABLE)
def test_single_fault_of_get_item_is_absorbed(driver, sandbox, keyed, kind):
    """One retryable failure of GetItem does not fail GET /messages/{id}."""
    driver.submit(keyed)
    sandbox.injector.plan(Fault(GET, kind, times=1))

    response = driver.get(ID)

    assert 1 == sum(sandbox.injector.injected.values())
    assert (200, "QUEUED") == (response.status, response.body["status"])


@pytest.mark.parametrize("kind", RETRYABLE)
def test_persistent_send_failure_rolls_back_to_pending(
    driver, sandbox, keyed, capture_before, raw_item, immutable, kind
):
    """SendMessage failing after retries: 503 with Retry-After, record PENDING and intact."""
    created = capture_before(SEND, ID)
    sandbox.injector.plan(Fault(SEND, kind, times=None))

    response = driver.submit(keyed)

    assert_retry_later(response)
    item = sandbox.items()[ID]
    assert "PENDING" == item["status"]
    assert immutable(created[0]) == immutable(raw_item(ID))
    assert set() == {"queuedAt", "sqsMessageId"} & set(item)
    assert 1 == item["version"]
    assert item["lastError"]
    assert item["enqueueAttempts"] >= 1
    assert [] == sandbox.messages()


@pytest.mark.parametrize("kind", RETRYABLE)
def test_retry_after_send_failure_completes_once(driver, sandbox, queued, keyed, kind):
    """Once the faults stop, a retry of the failed request queues exactly one message."""
    sandbox.injector.plan(Fault(SEND, kind, times=None))
    driver.submit(keyed)
    sandbox.injector.clear()

    response = driver.submit(keyed)

    assert (202, "QUEUED", False) == (
        response.status,
        response.body["status"],
        response.body["duplicate"],
    )
    assert "QUEUED" == sandbox.items()[ID]["status"]
    assert [ID] == [body["messageId"] for body in queued()]


def test_repeated_send_failures_count_attempts(driver, sandbox, keyed):
    """Each failed send is recorded in the PENDING record's bookkeeping."""
    sandbox.injector.plan(Fault(SEND, FaultKind.THROTTLE, times=None))

    responses = [driver.submit(keyed) for _ in range(3)]

    assert [503, 503, 503] == [response.status for response in responses]
    item = sandbox.items()[ID]
    assert ("PENDING", 3) == (item["status"], item["enqueueAttempts"])


def test_access_denied_on_send_is_500_without_retry_after(
    driver, sandbox, keyed, capture_before, raw_item, immutable
):
    """A non-retryable SendMessage error is 500 SYSTEM_ERROR; the record stays PENDING."""
    created = capture_before(SEND, ID)
    sandbox.injector.plan(Fault(SEND, FaultKind.ACCESS_DENIED, times=None))

    response = driver.submit(keyed)

    assert_internal(response)
    assert "PENDING" == sandbox.items()[ID]["status"]
    assert immutable(created[0]) == immutable(raw_item(ID))
    assert [] == sandbox.messages()
    sandbox.injector.clear()
    assert 202 == driver.submit(keyed).status


def test_access_denied_is_not_retried(driver, sandbox, operations, keyed):
    """A non-retryable error is attempted once, not retried by the SDK."""
    sandbox.injector.plan(Fault(SEND, FaultKind.ACCESS_DENIED, times=None))

    driver.submit(keyed)

    assert 1 == operations().count(SEND)


def test_send_failure_with_failing_bookkeeping_still_rolls_back(
    driver, sandbox, keyed, capture_before, raw_item, immutable
):
    """If the bookkeeping write fails too, the answer is still 503 and the record PENDING."""
    created = capture_before(SEND, ID)
    sandbox.injector.plan(Fault(SEND, FaultKind.THROTTLE, times=None))
    sandbox.injector.plan(Fault(UPDATE, FaultKind.THROTTLE, times=None))

    response = driver.submit(keyed)

    assert_retry_later(response)
    assert "PENDING" == sandbox.items()[ID]["status"]
    assert immutable(created[0]) == immutable(raw_item(ID))
    sandbox.injector.clear()
    assert (202, "QUEUED") == (driver.submit(keyed).status, sandbox.items()[ID]["status"])


def test_persistent_applied_but_lost_send(driver, sandbox, queued, keyed):
    """Sends applied but never acknowledged: 503, record PENDING, and each of the three
    attempts (standard retries, 3 in all) left its message; a retry sends once more and
    completes."""
    sandbox.injector.plan(Fault(SEND, FaultKind.APPLIED_LOST, times=None))

    failed = driver.submit(keyed)

    assert_retry_later(failed)
    assert "PENDING" == sandbox.items()[ID]["status"]
    assert [ID, ID, ID] == [body["messageId"] for body in queued()]
    sandbox.injector.clear()
    assert 202 == driver.submit(keyed).status
    assert "QUEUED" == sandbox.items()[ID]["status"]
    assert [ID, ID, ID, ID] == [body["messageId"] for body in queued()]


@pytest.mark.parametrize("kind", RETRYABLE)
def test_persistent_put_failure_writes_and_sends_nothing(driver, sandbox, operations, keyed, kind):
    """PutItem failing after retries: 503 with Retry-After, no item, no message, no send."""
    sandbox.injector.plan(Fault(PUT, kind, times=None))

    response = driver.submit(keyed)

    assert_retry_later(response)
    assert {} == sandbox.items()
    assert [] == sandbox.messages()
    assert {PUT} == set(operations())


def test_access_denied_on_put_is_500(driver, sandbox, keyed):
    """A non-retryable PutItem error is 500 SYSTEM_ERROR, and nothing is written."""
    sandbox.injector.plan(Fault(PUT, FaultKind.ACCESS_DENIED, times=None))

    response = driver.submit(keyed)

    assert_internal(response)
    assert ({}, []) == (sandbox.items(), sandbox.messages())


@pytest.mark.parametrize("kind", RETRYABLE)
def test_persistent_update_failure_leaves_message_queued_and_record_pending(
    driver, sandbox, queued, keyed, kind
):
    """UpdateItem failing after retries: 503, message already queued, record still PENDING."""
    sandbox.injector.plan(Fault(UPDATE, kind, times=None))

    response = driver.submit(keyed)

    assert_retry_later(response)
    assert ("PENDING", 1) == (sandbox.items()[ID]["status"], sandbox.items()[ID]["version"])
    assert [ID] == [body["messageId"] for body in queued()]


def test_retry_after_update_failure_resumes_to_queued(driver, sandbox, queued, keyed):
    """After a failed status update, a retry resumes: 202, QUEUED (the message may repeat)."""
    sandbox.injector.plan(Fault(UPDATE, FaultKind.THROTTLE, times=None))
    driver.submit(keyed)
    sandbox.injector.clear()

    response = driver.submit(keyed)

    assert (202, "QUEUED") == (response.status, response.body["status"])
    assert ("QUEUED", 2) == (sandbox.items()[ID]["status"], sandbox.items()[ID]["version"])
    assert [ID, ID] == [body["messageId"] for body in queued()]


def test_access_denied_on_update_is_500(driver, sandbox, keyed):
    """A non-retryable UpdateItem error is 500; the message is queued, the record PENDING."""
    sandbox.injector.plan(Fault(UPDATE, FaultKind.ACCESS_DENIED, times=None))

    response = driver.submit(keyed)

    assert_internal(response)
    assert "PENDING" == sandbox.items()[ID]["status"]
    assert 1 == len(sandbox.messages())


@pytest.mark.parametrize(
    ("kind", "check"),
    [(kind, assert_retry_later) for kind in RETRYABLE]
    + [(FaultKind.ACCESS_DENIED, assert_internal)],
)
def test_get_item_failure_is_a_system_error(driver, sandbox, keyed, kind, check):
    """GET answers 503 (retryable) or 500 (not) when GetItem keeps failing."""
    driver.submit(keyed)
    sandbox.injector.plan(Fault(GET, kind, times=None))

    check(driver.get(ID))


def test_applied_but_lost_put_still_succeeds(driver, sandbox, keyed):
    """A PutItem applied but unacknowledged is resumed by the SDK retry: 202, one record."""
    sandbox.injector.plan(Fault(PUT, FaultKind.APPLIED_LOST, times=1))

    response = driver.submit(keyed)

    assert (202, "QUEUED") == (response.status, response.body["status"])
    assert [ID] == list(sandbox.items())
    assert ("QUEUED", 2) == (sandbox.items()[ID]["status"], sandbox.items()[ID]["version"])
    assert 1 == len(sandbox.messages())


def test_applied_but_lost_send_duplicates_the_message(driver, sandbox, queued, keyed):
    """A SendMessage applied but unacknowledged and retried leaves two messages: still 202."""
    sandbox.injector.plan(Fault(SEND, FaultKind.APPLIED_LOST, times=1))

    response = driver.submit(keyed)

    assert (202, "QUEUED") == (response.status, response.body["status"])
    assert [ID, ID] == [body["messageId"] for body in queued()]
    assert "QUEUED" == sandbox.items()[ID]["status"]


def test_applied_but_lost_update_is_recognised(driver, sandbox, keyed):
    """An UpdateItem applied but unacknowledged is seen as done: 202 QUEUED, applied once."""
    sandbox.injector.plan(Fault(UPDATE, FaultKind.APPLIED_LOST, times=1))

    response = driver.submit(keyed)

    assert (202, "QUEUED") == (response.status, response.body["status"])
    assert ("QUEUED", 2) == (sandbox.items()[ID]["status"], sandbox.items()[ID]["version"])
    assert 1 == len(sandbox.messages())


def test_crash_at_put_leaves_nothing(driver, sandbox, keyed):
    """A crash before PutItem reaches DynamoDB leaves no record and no message."""
    sandbox.injector.plan(Fault(PUT, FaultKind.CRASH))

    assert isinstance(driver.submit(keyed), Crashed)
    assert ({}, []) == (sandbox.items(), sandbox.messages())
    assert 202 == driver.submit(keyed).status


def test_crash_at_send_leaves_pending_record_that_a_retry_completes(driver, sandbox, keyed):
    """A crash before SendMessage leaves a PENDING record, no message; a retry completes."""
    sandbox.injector.plan(Fault(SEND, FaultKind.CRASH))

    crashed = driver.submit(keyed)

    assert isinstance(crashed, Crashed)
    assert ("PENDING", []) == (sandbox.items()[ID]["status"], sandbox.messages())
    retried = driver.submit(keyed)
    assert (202, "QUEUED") == (retried.status, sandbox.items()[ID]["status"])
    assert 1 == len(sandbox.messages())


def test_crash_at_update_leaves_queued_message_and_pending_record(driver, sandbox, queued, keyed):
    """A crash between send and status update: message queued, record PENDING, retry completes."""
    sandbox.injector.plan(Fault(UPDATE, FaultKind.CRASH))

    crashed = driver.submit(keyed)

    assert isinstance(crashed, Crashed)
    assert "PENDING" == sandbox.items()[ID]["status"]
    assert [ID] == [body["messageId"] for body in queued()]
    retried = driver.submit(keyed)
    assert (202, "QUEUED") == (retried.status, retried.body["status"])
    assert ("QUEUED", 2) == (sandbox.items()[ID]["status"], sandbox.items()[ID]["version"])
    assert {ID} == {body["messageId"] for body in queued()}
