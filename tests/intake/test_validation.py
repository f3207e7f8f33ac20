"""Step 1 of POST /messages: every validation rule, and that a rejected request touches nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from model.core.events import submit_event

BASE = {"type": "order.created", "payload": {"k": "v"}}
MISSING = object()


def body(**changes: Any) -> dict[str, Any]:
    """``BASE`` with fields replaced, added, or removed (``MISSING``)."""
    result = {**BASE, **changes}
    return {key: value for key, value in result.items() if value is not MISSING}


def attrs_body(attributes: Any) -> dict[str, Any]:
    return body(attributes=attributes)


INVALID_FIELDS = [
    # type
    pytest.param(body(type=MISSING), "type", id="type-missing"),
    pytest.param(body(type=""), "type", id="type-empty"),
    pytest.param(body(type="1abc"), "type", id="type-leading-digit"),
    pytest.param(body(type="_abc"), "type", id="type-leading-underscore"),
    pytest.param(body(type="a b"), "type", id="type-space"),
    pytest.param(body(type="a/b"), "type", id="type-slash"),
    pytest.param(body(type="caf\u00e9"), "type", id="type-non-ascii"),
    pytest.param(body(type="order\n"), "type", id="type-trailing-newline"),
    pytest.param(body(type="a" * 129), "type", id="type-129-chars"),
    pytest.param(body(type=5), "type", id="type-number"),
    pytest.param(body(type=None), "type", id="type-null"),
    pytest.param(body(type=["a"]), "type", id="type-list"),
    # payload
    pytest.param(body(payload=MISSING), "payload", id="payload-missing"),
    pytest.param(body(payload=[]), "payload", id="payload-list"),
    pytest.param(body(payload="{}"), "payload", id="payload-string"),
    pytest.param(body(payload=None), "payload", id="payload-null"),
    pytest.param(body(payload=1), "payload", id="payload-number"),
    pytest.param(body(payload=True), "payload", id="payload-bool"),
    # messageId
    pytest.param(body(messageId=""), "messageId", id="id-empty"),
    pytest.param(body(messageId="x" * 129), "messageId", id="id-129-chars"),
    pytest.param(body(messageId="a.b"), "messageId", id="id-dot"),
    pytest.param(body(messageId="a b"), "messageId", id="id-space"),
    pytest.param(body(messageId="a/b"), "messageId", id="id-slash"),
    pytest.param(body(messageId="caf\u00e9"), "messageId", id="id-non-ascii"),
    pytest.param(body(messageId="abc\n"), "messageId", id="id-trailing-newline"),
    pytest.param(body(messageId=12), "messageId", id="id-number"),
    pytest.param(body(messageId=None), "messageId", id="id-null"),
    # attributes
    pytest.param(attrs_body({f"k{i}": "v" for i in range(11)}), "attributes", id="attrs-11"),
    pytest.param(attrs_body([]), "attributes", id="attrs-list"),
    pytest.param(attrs_body("k=v"), "attributes", id="attrs-string"),
    pytest.param(attrs_body(None), "attributes", id="attrs-null"),
    pytest.param(attrs_body({"": "v"}), "attributes", id="attr-key-empty"),
    pytest.param(attrs_body({"a" * 257: "v"}), "attributes", id="attr-key-257"),
    pytest.param(attrs_body({"a b": "v"}), "attributes", id="attr-key-space"),
    pytest.param(attrs_body({"caf\u00e9": "v"}), "attributes", id="attr-key-unicode"),
    pytest.param(attrs_body({"AWS.x": "v"}), "attributes", id="attr-key-AWS."),
    pytest.param(attrs_body({"aws.x": "v"}), "attributes", id="attr-key-aws."),
    pytest.param(attrs_body({"Aws.Trace": "v"}), "attributes", id="attr-key-Aws."),
    pytest.param(attrs_body({"AMAZON.x": "v"}), "attributes", id="attr-key-AMAZON."),
    pytest.param(attrs_body({"amazon.y": "v"}), "attributes", id="attr-key-amazon."),
    pytest.param(attrs_body({"Amazon.z": "v"}), "attributes", id="attr-key-Amazon."),
    pytest.param(attrs_body({"k": ""}), "attributes", id="attr-value-empty"),
    pytest.param(attrs_body({"k": "v" * 257}), "attributes", id="attr-value-257"),
    pytest.param(attrs_body({"k": 1}), "attributes", id="attr-value-number"),
    pytest.param(attrs_body({"k": None}), "attributes", id="attr-value-null"),
    pytest.param(attrs_body({"k": True}), "attributes", id="attr-value-bool"),
    pytest.param(attrs_body({"k": {}}), "attributes", id="attr-value-object"),
    pytest.param(attrs_body({"k": ["v"]}), "attributes", id="attr-value-list"),
    # unknown fields
    pytest.param(body(extra=1), "extra", id="unknown-field"),
    pytest.param(body(MessageId="abc"), "MessageId", id="unknown-field-case"),
    pytest.param(body(status="QUEUED"), "status", id="unknown-field-status"),
]


@pytest.mark.parametrize(("submitted", "field"), INVALID_FIELDS)
def test_invalid_field_is_a_validation_error_that_touches_nothing(
    driver, nothing_happened, submitted, field
):
    """A body breaking one field rule is answered 400 VALIDATION_ERROR naming that field."""
    response = driver.submit(submitted)

    assert 400 == response.status
    assert "VALIDATION_ERROR" == response.error_code
    fields = [detail["field"] for detail in response.body["error"]["details"]]
    assert field in [name.split(".")[0] for name in fields]
    nothing_happened()


INVALID_BODIES = [
    pytest.param('{"type": "t", "payload": {}', id="truncated"),
    pytest.param("{'type': 't', 'payload': {}}", id="single-quotes"),
    pytest.param('{"type": "t", "payload": {},}', id="trailing-comma"),
    pytest.param("[]", id="list"),
    pytest.param('"text"', id="string"),
    pytest.param("42", id="number"),
    pytest.param("null", id="null"),
    pytest.param("true", id="bool"),
    pytest.param('{"type": "t", "payload": {"x": NaN}}', id="NaN"),
    pytest.param('{"type": "t", "payload": {"x": Infinity}}', id="Infinity"),
    pytest.param('{"type": "t", "payload": {"x": -Infinity}}', id="-Infinity"),
    pytest.param('{"type": "t", "payload": {"x": 1e400}}', id="float-overflow"),
    pytest.param('{"type": "t", "payload": {"x": -1e400}}', id="negative-float-overflow"),
    pytest.param('{"type": "t", "payload": {"x": "\\ud800"}}', id="lone-high-surrogate"),
    pytest.param('{"type": "t", "payload": {"x": "\\udfff"}}', id="lone-low-surrogate"),
    pytest.param('{"type": "t", "payload": {"\\ud800": 1}}', id="lone-surrogate-in-key"),
    pytest.param('{"type": "t", "payload": {"x": ["\\ude00\\ud83d"]}}', id="reversed-pair"),
    pytest.param('{"type": "t", "type": "t", "payload": {}}', id="duplicate-top-key"),
    pytest.param('{"type": "t", "payload": {"a": 1, "a": 1}}', id="duplicate-nested-key"),
    pytest.param('{"type": "t", "payload": {"o": [{"b": 1, "b": 2}]}}', id="duplicate-deep-key"),
]


@pytest.mark.parametrize("text", INVALID_BODIES)
def test_body_that_is_not_a_strict_json_object_is_rejected(driver, nothing_happened, text):
    """Broken JSON, non-objects, NaN/Infinity, lone surrogates and duplicate keys are 400s."""
    response = driver.submit(text)

    assert 400 == response.status
    assert "VALIDATION_ERROR" == response.error_code
    assert ["body"] == [detail["field"] for detail in response.body["error"]["details"]]
    nothing_happened()


@pytest.mark.parametrize("missing", [None, ""], ids=["absent", "empty"])
def test_missing_or_empty_body_is_rejected(driver, nothing_happened, missing):
    """No body at all is a VALIDATION_ERROR on field ``body``."""
    event = submit_event({})
    event["body"] = missing

    response = driver.invoke(event)

    assert 400 == response.status
    assert [{"field": "body", "problem": response.body["error"]["details"][0]["problem"]}] == (
        response.body["error"]["details"]
    )
    nothing_happened()


def test_body_that_is_not_a_string_is_rejected(driver, nothing_happened):
    """An event whose body is not text (here a dict) is a 400, not a crash."""
    event = submit_event({})
    event["body"] = dict(BASE)

    response = driver.invoke(event)

    assert 400 == response.status
    assert "VALIDATION_ERROR" == response.error_code
    nothing_happened()


def test_invalid_utf8_in_base64_body_is_rejected(driver, nothing_happened):
    """Decoded bytes that are not UTF-8 are a VALIDATION_ERROR on ``body``."""
    raw = b'{"type": "t", "payload": {"x": "\xff\xfe"}}'

    response = driver.submit(raw, base64_encoded=True)

    assert 400 == response.status
    assert ["body"] == [detail["field"] for detail in response.body["error"]["details"]]
    nothing_happened()


@pytest.mark.parametrize("text", ["!!!not-base64!!!", "eyJ0eXBlIjoidCJ9=", "e30"])
def test_bad_base64_body_is_rejected(driver, nothing_happened, text):
    """``isBase64Encoded`` with a body that is not valid base64 is a VALIDATION_ERROR."""
    event = submit_event({})
    event["body"], event["isBase64Encoded"] = text, True

    response = driver.invoke(event)

    assert 400 == response.status
    assert "VALIDATION_ERROR" == response.error_code
    nothing_happened()


def test_base64_body_is_decoded_and_stored_like_plain_text(driver, sandbox, message):
    """A base64-encoded body is honoured: same id, same stored content as the plain body."""
    plain = driver.submit(message)
    encoded = driver.submit(json.dumps(message).encode(), base64_encoded=True)

    assert 202 == plain.status
    assert (200, True) == (encoded.status, encoded.body["duplicate"])
    assert plain.body["messageId"] == encoded.body["messageId"]
    assert 1 == len(sandbox.messages())


def test_base64_body_is_not_mistaken_for_json_when_flag_is_false(driver, nothing_happened):
    """Base64 text sent with ``isBase64Encoded`` false is not JSON, hence rejected."""
    text = base64.b64encode(json.dumps(BASE).encode()).decode()

    response = driver.submit(text)

    assert 400 == response.status
    nothing_happened()


def test_every_problem_is_listed_with_field_and_problem(driver):
    """VALIDATION_ERROR details list every broken field as ``{field, problem}`` pairs."""
    response = driver.submit({"type": "1", "payload": [], "extra": True})

    details = response.body["error"]["details"]
    assert {"type", "payload", "extra"} == {detail["field"] for detail in details}
    assert all({"field", "problem"} == set(detail) for detail in details)
    assert all(isinstance(detail["problem"], str) and detail["problem"] for detail in details)


@pytest.mark.parametrize(
    "type_",
    ["a", "A", "order.created", "a:b-c_d.e", "x9", "Z" + "z" * 127],
    ids=["one-char", "upper", "dotted", "all-punctuation", "digit", "128-chars"],
)
def test_valid_types_are_accepted(driver, sandbox, type_):
    """Types matching ``^[A-Za-z][A-Za-z0-9._:-]{0,127}$`` (up to 128 chars) are stored."""
    response = driver.submit({"type": type_, "payload": {}})

    assert 202 == response.status
    assert type_ == sandbox.items()[response.body["messageId"]]["type"]


@pytest.mark.parametrize(
    "message_id",
    ["a", "Z", "0", "A-b_9", "x" * 128],
    ids=["one-char", "upper", "digit", "mixed", "128-chars"],
)
def test_valid_message_ids_are_used_as_the_key(driver, sandbox, message_id):
    """Ids matching ``^[A-Za-z0-9_-]{1,128}$`` become the record's key."""
    response = driver.submit(body(messageId=message_id))

    assert (202, message_id) == (response.status, response.body["messageId"])
    assert [message_id] == list(sandbox.items())


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {f"k{i}": "v" for i in range(10)},
        {"a" * 256: "v" * 256},
        {"x": "1"},
        {"AWSx": "v", "aws_trace": "v", "Amazonia": "v", "my.AWS.key": "v"},
        {"caf": "\u00e9" * 256},
    ],
    ids=["empty", "ten", "256-key-and-value", "one-char", "near-reserved", "256-unicode-chars"],
)
def test_valid_attributes_are_accepted_and_travel(driver, sandbox, attributes):
    """Up to 10 string entries with SQS-valid names and 1..256-char values are accepted."""
    response = driver.submit(body(attributes=attributes))

    assert 202 == response.status
    assert [attributes] == [attrs for _, attrs in sandbox.messages()]


def test_idempotency_key_header_is_used_when_body_has_no_id(driver, sandbox):
    """Without ``messageId`` in the body, the Idempotency-Key header names the record."""
    response = driver.submit(BASE, {"Idempotency-Key": "key-1"})

    assert (202, "key-1") == (response.status, response.body["messageId"])
    assert ["key-1"] == list(sandbox.items())


@pytest.mark.parametrize("name", ["idempotency-key", "IDEMPOTENCY-KEY", "Idempotency-key"])
def test_idempotency_key_header_name_is_case_insensitive(driver, sandbox, name):
    """The header is found whatever its casing."""
    response = driver.submit(BASE, {name: "key-2"})

    assert "key-2" == response.body["messageId"]
    assert ["key-2"] == list(sandbox.items())


def test_idempotency_key_found_in_multi_value_headers_only(driver, sandbox):
    """A header API Gateway passes only in ``multiValueHeaders`` is still honoured."""
    event = submit_event(BASE)
    event["multiValueHeaders"]["Idempotency-Key"] = ["key-mv"]

    response = driver.invoke(event)

    assert "key-mv" == response.body["messageId"]


@pytest.mark.parametrize(
    "key", ["bad key", "", "x" * 129, "a.b", "k\u00e9"], ids=["space", "empty", "129", "dot", "uni"]
)
def test_invalid_idempotency_key_header_is_rejected(driver, nothing_happened, key):
    """An Idempotency-Key breaking the id rule is a VALIDATION_ERROR on that header."""
    response = driver.submit(BASE, {"Idempotency-Key": key})

    assert 400 == response.status
    assert ["Idempotency-Key"] == [d["field"] for d in response.body["error"]["details"]]
    nothing_happened()


def test_body_id_and_header_that_differ_are_rejected(driver, nothing_happened):
    """``messageId`` and Idempotency-Key that differ are a VALIDATION_ERROR."""
    response = driver.submit(body(messageId="id-a"), {"Idempotency-Key": "id-b"})

    assert 400 == response.status
    assert "VALIDATION_ERROR" == response.error_code
    nothing_happened()


def test_body_id_and_equal_header_are_accepted(driver, sandbox):
    """``messageId`` and an equal Idempotency-Key name the same record."""
    response = driver.submit(body(messageId="same"), {"Idempotency-Key": "same"})

    assert (202, "same") == (response.status, response.body["messageId"])
    assert ["same"] == list(sandbox.items())


def test_content_derived_id_is_sha256_of_canonical_content(driver, content_id):
    """With no id given, the id is SHA-256 hex of canonical ``{type, payload, attributes}``."""
    submitted = {"type": "t", "payload": {"b": [1, 2], "a": "x"}, "attributes": {"k": "v"}}

    response = driver.submit(submitted)

    assert content_id("t", {"a": "x", "b": [1, 2]}, {"k": "v"}) == response.body["messageId"]


def test_content_derived_id_without_attributes_counts_them_as_empty(driver, content_id):
    """Absent attributes hash like an empty attributes object."""
    response = driver.submit({"type": "t", "payload": {"a": 1}})

    assert content_id("t", {"a": 1}, {}) == response.body["messageId"]


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


def test_surrogate_pair_escape_is_valid(driver, sandbox):
    """A proper surrogate pair escape is a valid character, not a lone surrogate."""
    response = driver.submit('{"type": "t", "payload": {"smile": "\\ud83d\\ude00"}}')

    assert 202 == response.status
    assert {"smile": "\U0001f600"} == json.loads(
        sandbox.items()[response.body["messageId"]]["payload"]
    )


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

    assert "secret" not in response.raw_body
