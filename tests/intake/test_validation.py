"""Step 1 of POST /messages and the routes, on the handler under test: every request of the
shared table (``tests/validation_cases.py``, run against the model too) gets the answer the
contract gives it, and a refused one touches nothing; then what the table cannot say
(equal content spelled differently, details that echo nothing)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from validation_cases import PARAMS, Case

BASE = {"type": "order.created", "payload": {"k": "v"}}


def body(**changes: Any) -> dict[str, Any]:
    """``BASE`` with fields replaced or added."""
    return {**BASE, **changes}


@pytest.mark.parametrize("case", PARAMS)
def test_the_handler_answers_as_the_table_says(driver, sandbox, nothing_happened, case: Case):
    """The answer has the table's status and code. Accepted: the body names the record, which
    holds the table's type, canonical payload text, attributes (stored only when given) and
    content hash, and the one message sent carries them. A lookup finds the record stored
    before it. Refused: a VALIDATION_ERROR's details name the table's fields, a 405 says in
    ``Allow`` what the path allows, and no record, message or AWS call is made."""
    if case.status == 200:
        stored = driver.submit({"type": "t", "payload": {}, "messageId": case.message_id})
        assert 202 == stored.status
        sandbox.injector.attempts.clear()

    response = driver.invoke(case.event)

    assert (case.status, case.code) == (response.status, response.error_code)
    if case.status == 202:
        assert {"messageId": case.message_id, "status": "QUEUED", "duplicate": False} == (
            response.body
        )
        items = sandbox.items()
        assert [case.message_id] == list(items)
        item = items[case.message_id]
        assert (case.type, case.payload, case.attributes, case.payload_hash) == (
            item["type"],
            item["payload"],
            item.get("attributes"),
            item["payloadHash"],
        )
        sent = {
            "messageId": case.message_id,
            "type": case.type,
            "payload": json.loads(case.payload),
            "attributes": case.attributes or {},
        }
        assert [(sent, case.attributes or {})] == [
            (json.loads(text), attributes) for text, attributes in sandbox.messages()
        ]
    elif case.status == 200:
        assert (case.message_id, "t") == (response.body["messageId"], response.body["type"])
    else:
        if case.fields:
            details = response.body["error"]["details"]
            assert list(case.fields) == sorted(d["field"].split(".")[0] for d in details)
        assert case.allow == response.headers.get("allow")
        nothing_happened()


def test_base64_body_is_decoded_and_stored_like_plain_text(driver, sandbox, message):
    """A base64-encoded body is honoured: same id, same stored content as the plain body."""
    plain = driver.submit(message)
    encoded = driver.submit(json.dumps(message).encode(), base64_encoded=True)

    assert 202 == plain.status
    assert (200, True) == (encoded.status, encoded.body["duplicate"])
    assert plain.body["messageId"] == encoded.body["messageId"]
    assert 1 == len(sandbox.messages())


@pytest.mark.parametrize(
    "second",
    [
        '{"payload": {"b": 2, "a": 1}, "type": "t"}',
        '{ "type" : "t" ,\n "payload" : { "a" : 1 , "b" : 2 } }',
        '{"type": "\\u0074", "payload": {"\\u0061": 1, "b": 2}}',
    ],
    ids=["key-order", "whitespace", "escapes"],
)
def test_same_content_spelled_differently_is_a_duplicate(driver, sandbox, second):
    """Equal content gives the same derived id however the JSON is spelled."""
    first = driver.submit('{"type": "t", "payload": {"a": 1, "b": 2}}')
    again = driver.submit(second)

    assert (202, 200) == (first.status, again.status)
    assert first.body["messageId"] == again.body["messageId"]
    assert 1 == len(sandbox.messages())


def test_non_ascii_payload_escaped_or_literal_is_the_same_content(driver, sandbox):
    """``"\\u00e9"`` and a literal ``é`` are the same content, hence the same id."""
    first = driver.submit('{"type": "t", "payload": {"name": "caf\\u00e9"}}')
    again = driver.submit('{"type": "t", "payload": {"name": "caf\u00e9"}}')

    assert first.body["messageId"] == again.body["messageId"]
    assert True is again.body["duplicate"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"type": "t", "payload": {"a": 1}}, {"type": "u", "payload": {"a": 1}}),
        ({"type": "t", "payload": {"a": 1}}, {"type": "t", "payload": {"a": 2}}),
        (
            {"type": "t", "payload": {}, "attributes": {"k": "1"}},
            {"type": "t", "payload": {}, "attributes": {"k": "2"}},
        ),
    ],
    ids=["type", "payload", "attributes"],
)
def test_different_content_gets_a_different_derived_id(driver, sandbox, first, second):
    """Type, payload and attributes all take part in the derived id."""
    one, two = driver.submit(first), driver.submit(second)

    assert (202, 202) == (one.status, two.status)
    assert one.body["messageId"] != two.body["messageId"]
    assert 2 == len(sandbox.items())


def test_validation_problem_details_do_not_echo_values(driver):
    """Details name the field; they never carry the rejected value."""
    response = driver.submit(body(type="secret-value-1 !", messageId="secret value 2"))

    assert 400 == response.status
    assert "secret" not in response.raw_body
