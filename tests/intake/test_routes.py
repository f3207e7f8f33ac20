"""Routes: POST /messages, GET /messages/{messageId}, and everything else."""

from __future__ import annotations

import re

import pytest

from model.core.plans import Fault, FaultKind

ISO_MILLIS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
PUBLIC_FIELDS = {"messageId", "type", "status", "createdAt", "updatedAt", "queuedAt"}


def test_get_returns_the_public_view(driver, sandbox, message):
    """GET shows id, type, status and timestamps of the record, as stored."""
    message["attributes"] = {"k": "v"}
    message_id = driver.submit(message).body["messageId"]
    item = sandbox.items()[message_id]

    response = driver.get(message_id)

    assert 200 == response.status
    assert {"messageId", "type", "status", "createdAt", "updatedAt"} <= set(response.body)
    assert set(response.body) <= PUBLIC_FIELDS
    assert (message_id, "order.created", "QUEUED") == (
        response.body["messageId"],
        response.body["type"],
        response.body["status"],
    )
    assert (item["createdAt"], item["updatedAt"]) == (
        response.body["createdAt"],
        response.body["updatedAt"],
    )
    assert ISO_MILLIS.fullmatch(response.body["createdAt"])


def test_get_never_shows_content_or_internals(driver, message):
    """The public view carries no payload, attributes, hash, ttl, version or SQS id."""
    message["payload"] = {"marker": "get-view-marker-7f3a"}
    message["attributes"] = {"attr": "attr-marker-91c2"}
    message_id = driver.submit(message).body["messageId"]

    response = driver.get(message_id)

    hidden = {"payload", "attributes", "payloadHash", "ttl", "version", "sqsMessageId"}
    assert set() == hidden & set(response.body)
    assert "get-view-marker-7f3a" not in response.raw_body
    assert "attr-marker-91c2" not in response.raw_body


def test_get_shows_a_pending_record(driver, sandbox, message):
    """A record left PENDING by an SQS failure is visible as PENDING."""
    sandbox.injector.plan(Fault("sqs.SendMessage", FaultKind.SERVER_ERROR, times=None))
    driver.submit(message, {"Idempotency-Key": "pending-1"})
    sandbox.injector.clear()

    response = driver.get("pending-1")

    assert (200, "PENDING") == (response.status, response.body["status"])


def test_get_unknown_id_is_not_found(driver, sandbox):
    """An id that was never stored is 404 NOT_FOUND."""
    response = driver.get("never-stored")

    assert 404 == response.status
    assert "NOT_FOUND" == response.error_code


def test_get_expired_record_is_not_found(driver, sandbox, message, expire):
    """A record whose ttl has passed (not yet deleted by DynamoDB) is 404 NOT_FOUND."""
    message_id = driver.submit(message).body["messageId"]
    expire(message_id)

    response = driver.get(message_id)

    assert 404 == response.status
    assert "NOT_FOUND" == response.error_code
    assert message_id in sandbox.items()


@pytest.mark.parametrize(
    "event",
    [None, [], {}, "POST /messages", 42, {"httpMethod": 5, "path": "/messages"}, {"body": "{}"}],
    ids=["none", "list", "empty-dict", "string", "number", "method-not-text", "no-method"],
)
def test_event_that_is_not_api_gateway_is_a_clean_400(invoke_raw, nothing_happened, event):
    """An event that is not an API Gateway proxy event is 400 with an error body."""
    response = invoke_raw(event, request_id="ctx-1")

    assert 400 == response.status
    assert {"error"} == set(response.body)
    assert "ctx-1" == response.body["error"]["requestId"]
    assert "Traceback" not in response.raw_body
    nothing_happened()


def test_post_answers_json(driver, message):
    """Every answer is JSON with a JSON Content-Type."""
    response = driver.submit(message)

    assert "application/json" == response.headers["content-type"].split(";")[0]
