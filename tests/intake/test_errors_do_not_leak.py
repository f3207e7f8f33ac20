"""Error answers: the documented shape, the event's requestId, and nothing from the inside."""

from __future__ import annotations

import json

import pytest

from model.core.events import api_event, submit_event
from model.core.plans import Fault, FaultKind

PUT, SEND, UPDATE, GET = (
    "dynamodb.PutItem",
    "sqs.SendMessage",
    "dynamodb.UpdateItem",
    "dynamodb.GetItem",
)
KINDS = [
    FaultKind.THROTTLE,
    FaultKind.SERVER_ERROR,
    FaultKind.TIMEOUT,
    FaultKind.CONNECTION_ERROR,
    FaultKind.ACCESS_DENIED,
]
MESSAGE = {"type": "t", "payload": {"k": "v"}, "messageId": "leak-1"}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("operation", [PUT, SEND, UPDATE])
def test_submit_failure_of_each_call_leaks_nothing(driver, sandbox, assert_clean, operation, kind):
    """A 500 or 503 from any failing call of a submit is clean."""
    sandbox.injector.plan(Fault(operation, kind, times=None))

    response = driver.submit(MESSAGE, request_id="req-leak-1")

    assert response.status in {500, 503}
    assert_clean(response, "req-leak-1")


@pytest.mark.parametrize("kind", KINDS)
def test_get_failure_leaks_nothing(driver, sandbox, assert_clean, kind):
    """A 500 or 503 from a failing GetItem is clean."""
    driver.submit(MESSAGE)
    sandbox.injector.plan(Fault(GET, kind, times=None))

    response = driver.invoke(
        api_event(
            "GET",
            "/messages/leak-1",
            path_parameters={"messageId": "leak-1"},
            request_id="req-leak-2",
        )
    )

    assert response.status in {500, 503}
    assert_clean(response, "req-leak-2")


def test_failing_bookkeeping_leaks_nothing(driver, sandbox, assert_clean):
    """SQS and the bookkeeping write both failing still gives a clean 503."""
    sandbox.injector.plan(Fault(SEND, FaultKind.THROTTLE, times=None))
    sandbox.injector.plan(Fault(UPDATE, FaultKind.ACCESS_DENIED, times=None))

    response = driver.submit(MESSAGE, request_id="req-leak-3")

    assert 503 == response.status
    assert_clean(response, "req-leak-3")


def test_unexpected_exception_is_a_clean_500(driver, sandbox, dynamodb, assert_clean):
    """An exception nobody planned for (moto's TypeError on a malformed ttl) is a clean 500."""
    with sandbox.injector.pause():
        dynamodb.put_item(
            TableName=sandbox.table_name,
            Item={"messageId": {"S": "leak-1"}, "ttl": {"S": "not-a-number"}},
        )

    response = driver.submit(MESSAGE, request_id="req-leak-4")

    assert 500 == response.status
    assert_clean(response, "req-leak-4")


def client_errors():
    """Events answered with each client error code."""
    long_body = json.dumps({"type": "t", "payload": {"p": "a" * 300_000}})
    return [
        pytest.param(submit_event({"type": "1"}, request_id="r"), id="validation"),
        pytest.param(submit_event("{", request_id="r"), id="broken-json"),
        pytest.param(api_event("GET", "/nowhere", request_id="r"), id="not-found"),
        pytest.param(
            api_event(
                "GET", "/messages/none", path_parameters={"messageId": "none"}, request_id="r"
            ),
            id="unknown-id",
        ),
        pytest.param(api_event("DELETE", "/messages", request_id="r"), id="method"),
        pytest.param(submit_event(long_body, request_id="r"), id="too-large"),
        pytest.param(
            submit_event(MESSAGE, {"Content-Type": "text/plain"}, request_id="r"), id="media-type"
        ),
    ]


@pytest.mark.parametrize("event", client_errors())
def test_client_errors_have_the_documented_shape(driver, assert_clean, event):
    """Every 4xx answer has the documented shape and carries the event's requestId."""
    response = driver.invoke(event)

    assert 400 <= response.status < 500
    assert_clean(response, "r")


def test_conflict_has_the_documented_shape(driver, assert_clean):
    """A 409 conflict answer has the documented shape."""
    driver.submit(MESSAGE)

    response = driver.submit({**MESSAGE, "payload": {"k": "other"}}, request_id="req-conflict")

    assert 409 == response.status
    assert_clean(response, "req-conflict")


def test_validation_details_are_field_problem_pairs(driver, assert_clean):
    """VALIDATION_ERROR details are a list of ``{field, problem}`` objects of strings."""
    response = driver.submit({"type": 1, "payload": 2}, request_id="req-details")

    assert_clean(response, "req-details")
    details = response.body["error"]["details"]
    assert isinstance(details, list) and details
    assert all(
        {"field", "problem"} == set(d) and all(isinstance(v, str) for v in d.values())
        for d in details
    )


def test_non_validation_errors_have_no_details(driver, sandbox):
    """Only VALIDATION_ERROR carries ``details``."""
    sandbox.injector.plan(Fault(SEND, FaultKind.THROTTLE, times=None))

    response = driver.submit(MESSAGE)

    assert "details" not in response.body["error"]


def test_request_id_comes_from_the_event_not_the_context(invoke_raw, sandbox):
    """The error's requestId is ``requestContext.requestId`` even when the context differs."""
    event = submit_event({"type": "1"}, request_id="from-event")

    response = invoke_raw(event, request_id="from-context")

    assert "from-event" == response.body["error"]["requestId"]
