"""One table of requests and the answers DESIGN.md section 1 gives them, written by hand.

The same cases run against the model's judge (``tests/oracle/test_contract.py``) and against
the handler under test, the reference by default (``tests/intake/test_validation.py``), so the
two cannot drift apart: a rule one of them lacks shows up as a red case on that side.

Each case is a name, an API Gateway event, and the answer: the HTTP status and error code, and
for what is accepted, the record it makes (id, type, payload as canonical JSON text,
attributes, ``payloadHash``). Canonical texts are written out, and hashes are ``hashlib``
calls in this file, never the model's or the reference's own helpers. A lookup (200) is of a
record that exists; a VALIDATION_ERROR may name the fields its details must point at (the
first part of a dotted path), which the handler's answer is checked against.

Import as ``validation_cases`` (``pythonpath = ["tests"]``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import attrs
import pytest

from model.core.events import api_event

MAX_BODY = 256 * 1024
PAYLOAD = '{"orderId":"o-1"}'
"""The canonical text of ``doc()``'s payload."""
MISSING = object()
"""Given for a field of ``doc()``: leave the field out."""


@attrs.frozen
class Case:
    """A request and the answer the contract gives it."""

    name: str
    event: Any
    status: int
    code: str | None = None
    message_id: str | None = None
    """Accepted: the id of the record it makes. Lookup: the id looked up."""
    type: str | None = None
    payload: str | None = None
    """Accepted: the payload as the record stores it, canonical JSON text."""
    attributes: dict[str, str] | None = None
    """Accepted: the attributes as given (None: none given)."""
    payload_hash: str | None = None
    fields: tuple[str, ...] = ()
    """VALIDATION_ERROR: the fields the details name, sorted (empty: not checked)."""
    allow: str | None = None
    """405: the method the ``Allow`` header names."""


def canonical(value: Any) -> str:
    """Canonical JSON as DESIGN.md defines it: sorted keys, no whitespace, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(type_: str, payload: str, attributes: dict[str, str] | None = None) -> str:
    """``payloadHash``, and the id when none is given: SHA-256 hex of the canonical
    ``{attributes, payload, type}`` (in that key order), absent attributes counting as {}."""
    text = (
        f'{{"attributes":{canonical(attributes or {})},"payload":{payload},'
        f'"type":{canonical(type_)}}}'
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def doc(**fields: Any) -> dict[str, Any]:
    """A submission body: a valid type and payload unless changed (``MISSING`` removes)."""
    body = {"type": "order.created", "payload": {"orderId": "o-1"}, **fields}
    return {name: value for name, value in body.items() if value is not MISSING}


def post(
    body: Any,
    headers: dict[str, str] | None = None,
    *,
    media: str | None = "application/json",
    b64: bool = False,
) -> dict[str, Any]:
    """``POST /messages``; a dict or list body is sent as JSON, text or bytes as they are."""
    text = json.dumps(body) if isinstance(body, dict | list) else body
    all_headers = {} if media is None else {"Content-Type": media}
    all_headers.update(headers or {})
    return api_event("POST", "/messages", text, all_headers, base64_encoded=b64)


def sized(total: int, char: str = "x") -> str:
    """A valid compact body of exactly ``total`` UTF-8 bytes, padded in its payload."""
    prefix, suffix = '{"type":"a","payload":{"p":"', '"}}'
    text = prefix + char * ((total - len(prefix) - len(suffix)) // len(char.encode())) + suffix
    if total != len(text.encode("utf-8")):
        raise ValueError(f"no body of {total} bytes is made of {char!r}")
    return text


def accepted(
    name: str,
    event: Any,
    *,
    type_: str = "order.created",
    payload: str = PAYLOAD,
    attributes: dict[str, str] | None = None,
    message_id: str | None = None,
) -> Case:
    """Accepted, 202: the record holds this content under the given id or the content's own."""
    content = content_hash(type_, payload, attributes)
    return Case(name, event, 202, None, message_id or content, type_, payload, attributes, content)


def invalid(name: str, event: Any, *fields: str) -> Case:
    return Case(name, event, 400, "VALIDATION_ERROR", fields=tuple(sorted(fields)))


def found(name: str, event: Any, message_id: str) -> Case:
    return Case(name, event, 200, message_id=message_id)


def not_found(name: str, event: Any) -> Case:
    return Case(name, event, 404, "NOT_FOUND")


def not_allowed(name: str, event: Any, allow: str) -> Case:
    return Case(name, event, 405, "METHOD_NOT_ALLOWED", allow=allow)


def too_large(name: str, event: Any) -> Case:
    return Case(name, event, 413, "PAYLOAD_TOO_LARGE")


def unsupported(name: str, event: Any) -> Case:
    return Case(name, event, 415, "UNSUPPORTED_MEDIA_TYPE")


def as_base64(text: str) -> dict[str, Any]:
    """``POST /messages`` flagged ``isBase64Encoded`` with ``text`` as its body, as it is."""
    return {**post(None), "body": text, "isBase64Encoded": True}


def _not_a_string_body() -> dict[str, Any]:
    event = post(None)
    event["body"] = doc()
    return event


def _idempotency_key_in_multi_value_headers_only() -> dict[str, Any]:
    event = post(doc())
    event["multiValueHeaders"]["Idempotency-Key"] = ["key-mv"]
    return event


def _ten(value: str = "v") -> dict[str, str]:
    return {f"k{i}": value for i in range(10)}


TYPES = [
    accepted("type one letter", post(doc(type="a")), type_="a"),
    accepted("type capital letter", post(doc(type="Z")), type_="Z"),
    accepted("type with a digit", post(doc(type="x9")), type_="x9"),
    accepted("type punctuation", post(doc(type="a.b_c:d-e9")), type_="a.b_c:d-e9"),
    accepted("type 128 chars", post(doc(type="a" + "b" * 127)), type_="a" + "b" * 127),
    invalid("type 129 chars", post(doc(type="a" + "b" * 128)), "type"),
    invalid("type empty", post(doc(type="")), "type"),
    invalid("type starts with a digit", post(doc(type="1abc")), "type"),
    invalid("type starts with underscore", post(doc(type="_abc")), "type"),
    invalid("type starts with a dot", post(doc(type=".abc")), "type"),
    invalid("type with space", post(doc(type="a b")), "type"),
    invalid("type with slash", post(doc(type="a/b")), "type"),
    invalid("type with trailing newline", post(doc(type="abc\n")), "type"),
    invalid("type non-ascii", post(doc(type="\u00e9t\u00e9")), "type"),
    invalid("type non-ascii after a letter", post(doc(type="caf\u00e9")), "type"),
    invalid("type a number", post(doc(type=5)), "type"),
    invalid("type null", post(doc(type=None)), "type"),
    invalid("type a list", post(doc(type=["a"])), "type"),
    invalid("type missing", post(doc(type=MISSING)), "type"),
]

PAYLOADS = [
    accepted("payload empty object", post(doc(payload={})), payload="{}"),
    accepted(
        "payload nested",
        post(doc(payload={"a": [1, {"b": None}], "c": 1.5})),
        payload='{"a":[1,{"b":null}],"c":1.5}',
    ),
    invalid("payload array", post(doc(payload=[])), "payload"),
    invalid("payload string", post(doc(payload="text")), "payload"),
    invalid("payload a string of JSON", post(doc(payload="{}")), "payload"),
    invalid("payload number", post(doc(payload=1)), "payload"),
    invalid("payload bool", post(doc(payload=True)), "payload"),
    invalid("payload null", post(doc(payload=None)), "payload"),
    invalid("payload missing", post(doc(payload=MISSING)), "payload"),
]

IDS = [
    accepted("messageId in body", post(doc(messageId="m-1")), message_id="m-1"),
    accepted("messageId one char", post(doc(messageId="A")), message_id="A"),
    accepted("messageId a digit", post(doc(messageId="0")), message_id="0"),
    accepted("messageId mixed", post(doc(messageId="A-b_9")), message_id="A-b_9"),
    accepted("messageId 128 chars", post(doc(messageId="x" * 128)), message_id="x" * 128),
    invalid("messageId 129 chars", post(doc(messageId="x" * 129)), "messageId"),
    invalid("messageId empty", post(doc(messageId="")), "messageId"),
    invalid("messageId with dot", post(doc(messageId="a.b")), "messageId"),
    invalid("messageId with space", post(doc(messageId="a b")), "messageId"),
    invalid("messageId with slash", post(doc(messageId="a/b")), "messageId"),
    invalid("messageId non-ascii", post(doc(messageId="caf\u00e9")), "messageId"),
    invalid("messageId trailing newline", post(doc(messageId="m-1\n")), "messageId"),
    invalid("messageId a number", post(doc(messageId=7)), "messageId"),
    invalid("messageId null", post(doc(messageId=None)), "messageId"),
    accepted("Idempotency-Key used", post(doc(), {"Idempotency-Key": "key-1"}), message_id="key-1"),
    accepted(
        "Idempotency-Key name lower",
        post(doc(), {"idempotency-key": "key-1"}),
        message_id="key-1",
    ),
    accepted(
        "Idempotency-Key name upper",
        post(doc(), {"IDEMPOTENCY-KEY": "key-1"}),
        message_id="key-1",
    ),
    accepted(
        "Idempotency-Key name mixed",
        post(doc(), {"Idempotency-key": "key-1"}),
        message_id="key-1",
    ),
    accepted(
        "Idempotency-Key in multiValueHeaders only",
        _idempotency_key_in_multi_value_headers_only(),
        message_id="key-mv",
    ),
    invalid("header with space", post(doc(), {"Idempotency-Key": "bad key"}), "Idempotency-Key"),
    invalid("header empty", post(doc(), {"Idempotency-Key": ""}), "Idempotency-Key"),
    invalid("header 129 chars", post(doc(), {"Idempotency-Key": "k" * 129}), "Idempotency-Key"),
    invalid("header with dot", post(doc(), {"Idempotency-Key": "a.b"}), "Idempotency-Key"),
    invalid("header non-ascii", post(doc(), {"Idempotency-Key": "k\u00e9"}), "Idempotency-Key"),
    accepted(
        "body and header agree",
        post(doc(messageId="m-1"), {"Idempotency-Key": "m-1"}),
        message_id="m-1",
    ),
    invalid(
        "body and header differ",
        post(doc(messageId="m-1"), {"Idempotency-Key": "m-2"}),
        "Idempotency-Key",
    ),
    invalid(
        "body id valid, header invalid",
        post(doc(messageId="m-1"), {"Idempotency-Key": "bad key"}),
        "Idempotency-Key",
    ),
    accepted("no id: derived from content (application/json, a plain body)", post(doc())),
    accepted(
        "derived id: canonical content, non-ASCII kept",
        post(
            doc(
                payload={"z": 1, "a": ["\u00fc", {"y": None, "b": 2.5}]},
                attributes={"tenant": "acme"},
            )
        ),
        payload='{"a":["\u00fc",{"b":2.5,"y":null}],"z":1}',
        attributes={"tenant": "acme"},
    ),
    accepted(
        "derived id: another content with attributes",
        post({"type": "t", "payload": {"b": [1, 2], "a": "x"}, "attributes": {"k": "v"}}),
        type_="t",
        payload='{"a":"x","b":[1,2]}',
        attributes={"k": "v"},
    ),
    accepted(
        "derived id: absent attributes count as {}",
        post({"type": "t", "payload": {"a": 1}}),
        type_="t",
        payload='{"a":1}',
    ),
]

ATTRIBUTES = [
    accepted(
        "attributes one",
        post(doc(attributes={"tenant": "acme"})),
        attributes={"tenant": "acme"},
    ),
    accepted("attributes empty", post(doc(attributes={})), attributes={}),
    accepted("attributes 10 entries", post(doc(attributes=_ten())), attributes=_ten()),
    invalid(
        "attributes 11 entries",
        post(doc(attributes={**_ten(), "k10": "v"})),
        "attributes",
    ),
    accepted(
        "attribute name punctuation",
        post(doc(attributes={"a.B_c-9": "v"})),
        attributes={"a.B_c-9": "v"},
    ),
    accepted(
        "attribute name 256 chars",
        post(doc(attributes={"k" * 256: "v"})),
        attributes={"k" * 256: "v"},
    ),
    accepted(
        "attribute value 256 chars",
        post(doc(attributes={"k": "v" * 256})),
        attributes={"k": "v" * 256},
    ),
    accepted(
        "attribute name and value 256 chars",
        post(doc(attributes={"a" * 256: "v" * 256})),
        attributes={"a" * 256: "v" * 256},
    ),
    accepted(
        "attribute value 256 non-ASCII chars",
        post(doc(attributes={"caf": "\u00e9" * 256})),
        attributes={"caf": "\u00e9" * 256},
    ),
    accepted("attribute value one char", post(doc(attributes={"x": "1"})), attributes={"x": "1"}),
    accepted(
        "prefix without the dot is not reserved",
        post(doc(attributes={"AWSx": "v", "Amazonia": "v"})),
        attributes={"AWSx": "v", "Amazonia": "v"},
    ),
    accepted(
        "near-reserved names are not reserved",
        post(doc(attributes={"AWSx": "v", "aws_trace": "v", "Amazonia": "v", "my.AWS.key": "v"})),
        attributes={"AWSx": "v", "aws_trace": "v", "Amazonia": "v", "my.AWS.key": "v"},
    ),
    invalid("attribute name 257 chars", post(doc(attributes={"k" * 257: "v"})), "attributes"),
    invalid("attribute name empty", post(doc(attributes={"": "v"})), "attributes"),
    invalid("attribute name with space", post(doc(attributes={"a b": "v"})), "attributes"),
    invalid("attribute name with colon", post(doc(attributes={"a:b": "v"})), "attributes"),
    invalid("attribute name non-ascii", post(doc(attributes={"caf\u00e9": "v"})), "attributes"),
    invalid("reserved AWS.", post(doc(attributes={"AWS.trace": "v"})), "attributes"),
    invalid("reserved aws.", post(doc(attributes={"aws.trace": "v"})), "attributes"),
    invalid("reserved Aws.", post(doc(attributes={"Aws.trace": "v"})), "attributes"),
    invalid(
        "reserved Aws., any case after", post(doc(attributes={"Aws.Trace": "v"})), "attributes"
    ),
    invalid("reserved Amazon.", post(doc(attributes={"Amazon.x": "v"})), "attributes"),
    invalid("reserved AMAZON.", post(doc(attributes={"AMAZON.x": "v"})), "attributes"),
    invalid("reserved amazon.", post(doc(attributes={"amazon.x": "v"})), "attributes"),
    invalid("attribute value 257 chars", post(doc(attributes={"k": "v" * 257})), "attributes"),
    invalid("attribute value empty", post(doc(attributes={"k": ""})), "attributes"),
    invalid("attribute value a number", post(doc(attributes={"k": 1})), "attributes"),
    invalid("attribute value null", post(doc(attributes={"k": None})), "attributes"),
    invalid("attribute value bool", post(doc(attributes={"k": True})), "attributes"),
    invalid("attribute value an object", post(doc(attributes={"k": {"v": "w"}})), "attributes"),
    invalid("attribute value an empty object", post(doc(attributes={"k": {}})), "attributes"),
    invalid("attribute value a list", post(doc(attributes={"k": ["v"]})), "attributes"),
    invalid("attributes an array", post(doc(attributes=["k", "v"])), "attributes"),
    invalid("attributes an empty array", post(doc(attributes=[])), "attributes"),
    invalid("attributes a string", post(doc(attributes="k=v")), "attributes"),
    invalid("attributes null", post(doc(attributes=None)), "attributes"),
]

DOCUMENTS = [
    invalid("unknown field", post(doc(extra=1)), "extra"),
    invalid("unknown field status", post(doc(status="QUEUED")), "status"),
    invalid("field names are case-sensitive", post(doc(MessageId="m-1")), "MessageId"),
    invalid(
        "every broken field is listed",
        post({"type": "1", "payload": [], "extra": True}),
        "extra",
        "payload",
        "type",
    ),
    invalid("body empty object", post("{}"), "payload", "type"),
    invalid("body an array", post([doc()]), "body"),
    invalid("body an empty array", post("[]"), "body"),
    invalid("body a JSON string", post('"text"'), "body"),
    invalid("body a number", post("42"), "body"),
    invalid("body a bool", post("true"), "body"),
    invalid("body null", post("null"), "body"),
    invalid("broken JSON", post('{"type": "a", "payload": {}'), "body"),
    invalid("single quotes", post("{'type': 'a', 'payload': {}}"), "body"),
    invalid("trailing comma", post('{"type": "a", "payload": {},}'), "body"),
    invalid("empty body", post(""), "body"),
    invalid("no body", post(None), "body"),
    invalid("body not a string", _not_a_string_body(), "body"),
    invalid("NaN", post('{"type":"a","payload":{"x":NaN}}'), "body"),
    invalid("Infinity", post('{"type":"a","payload":{"x":Infinity}}'), "body"),
    invalid("-Infinity", post('{"type":"a","payload":{"x":-Infinity}}'), "body"),
    invalid("1e400 overflows", post('{"type":"a","payload":{"x":1e400}}'), "body"),
    invalid("-1e400 overflows", post('{"type":"a","payload":{"x":-1e400}}'), "body"),
    accepted(
        "1e308 is finite",
        post('{"type":"a","payload":{"x":1e308}}'),
        type_="a",
        payload='{"x":1e+308}',
    ),
    invalid("lone high surrogate", post('{"type":"a","payload":{"x":"\\ud800"}}'), "body"),
    invalid("lone low surrogate", post('{"type":"a","payload":{"x":"\\udfff"}}'), "body"),
    invalid("lone surrogate in a key", post('{"type":"a","payload":{"\\udfff":1}}'), "body"),
    invalid("lone surrogate in type", post('{"type":"a\\ud800","payload":{}}'), "body"),
    invalid("reversed pair", post('{"type":"a","payload":{"x":["\\ude00\\ud83d"]}}'), "body"),
    invalid("raw lone surrogate in text", post('{"type":"a","payload":{"x":"\ud800"}}'), "body"),
    accepted(
        "surrogate pair",
        post('{"type":"a","payload":{"x":"\\ud83d\\ude00"}}'),
        type_="a",
        payload='{"x":"\U0001f600"}',
    ),
    invalid("duplicate top key", post('{"type":"a","type":"b","payload":{}}'), "body"),
    invalid("duplicate nested key", post('{"type":"a","payload":{"k":1,"k":2}}'), "body"),
    invalid(
        "duplicate nested key, equal values", post('{"type":"a","payload":{"a":1,"a":1}}'), "body"
    ),
    invalid(
        "duplicate key in an array", post('{"type":"a","payload":{"k":[{"x":1,"x":1}]}}'), "body"
    ),
    invalid(
        "duplicate key deep in an array",
        post('{"type": "t", "payload": {"o": [{"b": 1, "b": 2}]}}'),
        "body",
    ),
    invalid(
        "nested too deep",
        post('{"type":"a","payload":' + '{"a":' * 20_000 + "1" + "}" * 20_001),
        "body",
    ),
]

BASE64 = [
    accepted("base64 body", post(json.dumps(doc()).encode("utf-8"), b64=True)),
    invalid("bad base64", as_base64("!!not base64!!"), "body"),
    invalid("bad base64, dashes", as_base64("!!!not-base64!!!"), "body"),
    # '{"type":"t"}' with one "=" too many: refused either way; which field the details name
    # depends on whether the decoder forgives the padding (Python's does), so it is not checked.
    invalid("base64 with an extra padding character", as_base64("eyJ0eXBlIjoidCJ9=")),
    invalid("base64 without its padding", as_base64("e30"), "body"),
    invalid(
        "base64 of bytes that are not UTF-8",
        post(b'{"type":"a","payload":{"x":"\xff"}}', b64=True),
        "body",
    ),
    invalid(
        "base64 text with the flag false is not JSON",
        post(base64.b64encode(json.dumps(doc()).encode("utf-8")).decode("ascii")),
        "body",
    ),
]

SIZES = [
    accepted(
        "exactly 256 KiB",
        post(sized(MAX_BODY)),
        type_="a",
        payload=sized(MAX_BODY)[len('{"type":"a","payload":') : -1],
    ),
    too_large("256 KiB + 1 byte", post(sized(MAX_BODY + 1))),
    too_large("bytes count, not characters", post(sized(MAX_BODY + 1, "\u00e9"))),
    accepted(
        "base64: 256 KiB decoded",
        post(sized(MAX_BODY).encode("utf-8"), b64=True),
        type_="a",
        payload=sized(MAX_BODY)[len('{"type":"a","payload":') : -1],
    ),
    too_large("base64: 256 KiB + 1 decoded", post(sized(MAX_BODY + 1).encode("utf-8"), b64=True)),
    too_large("base64: 1 MiB decoded", post(sized(4 * MAX_BODY).encode("utf-8"), b64=True)),
    too_large("too large beats bad JSON", post(sized(MAX_BODY + 2)[:-1])),
]

MEDIA_TYPES = [
    accepted("media type any case", post(doc(), media="Application/JSON")),
    accepted(
        "Content-Type name upper", post(doc(), {"CONTENT-TYPE": "Application/JSON"}, media=None)
    ),
    accepted(
        "Content-Type name lower", post(doc(), {"content-type": "application/json"}, media=None)
    ),
    accepted("charset utf-8", post(doc(), media="application/json; charset=utf-8")),
    accepted("charset UTF-8", post(doc(), media="application/json; charset=UTF-8")),
    accepted("charset UTF-8, no space", post(doc(), media="application/json;charset=UTF-8")),
    accepted("charset quoted", post(doc(), media='application/json; charset="utf-8"')),
    accepted("+json suffix", post(doc(), media="application/vnd.api+json")),
    accepted("no Content-Type", post(doc(), media=None)),
    unsupported("text/plain", post(doc(), media="text/plain")),
    unsupported("application/xml", post(doc(), media="application/xml")),
    unsupported("multipart", post(doc(), media="multipart/form-data")),
    unsupported("multipart with a boundary", post(doc(), media="multipart/form-data; boundary=x")),
    unsupported("form", post(doc(), media="application/x-www-form-urlencoded")),
    unsupported("charset latin-1", post(doc(), media="application/json; charset=latin-1")),
    unsupported("charset iso-8859-1", post(doc(), media="application/json; charset=iso-8859-1")),
    unsupported("charset utf-16", post(doc(), media="application/json; charset=utf-16")),
    unsupported("media type checked before JSON", post("{", media="text/plain")),
    unsupported(
        "Content-Type name lower, text/plain",
        post(doc(), {"content-type": "text/plain"}, media=None),
    ),
]

BODY = '{"type": "t", "payload": {}}'
ROUTES = [
    found("GET a record", api_event("GET", "/messages/m-1"), "m-1"),
    found(
        "GET a record by pathParameters",
        api_event("GET", "/messages/m-1", path_parameters={"messageId": "m-1"}),
        "m-1",
    ),
    found("GET a 128-char id", api_event("GET", "/messages/" + "x" * 128), "x" * 128),
    not_found("GET a 129-char id", api_event("GET", "/messages/" + "x" * 129)),
    not_found("GET an id with a dot", api_event("GET", "/messages/a.b")),
    not_found(
        "GET an id with a dot by pathParameters",
        api_event("GET", "/messages/bad.id", path_parameters={"messageId": "bad.id"}),
    ),
    not_found("GET below a record", api_event("GET", "/messages/m-1/x")),
    not_found("GET two levels down", api_event("GET", "/messages/a/b", BODY)),
    not_allowed("POST to a record", api_event("POST", "/messages/m-1"), "GET"),
    not_allowed("POST to a record with a body", api_event("POST", "/messages/abc", BODY), "GET"),
    not_allowed("PUT a record", api_event("PUT", "/messages/m-1"), "GET"),
    not_allowed("DELETE a record", api_event("DELETE", "/messages/m-1"), "GET"),
    not_allowed("GET the collection", api_event("GET", "/messages"), "POST"),
    not_allowed("PUT the collection", api_event("PUT", "/messages"), "POST"),
    not_allowed("DELETE the collection", api_event("DELETE", "/messages"), "POST"),
    not_allowed("PATCH the collection", api_event("PATCH", "/messages", BODY), "POST"),
    not_found("GET /", api_event("GET", "/")),
    not_found("POST /", api_event("POST", "/", BODY)),
    not_found("GET an empty path", api_event("GET", "", BODY)),
    not_found("POST /message", api_event("POST", "/message", BODY)),
    not_found("POST /messagesx", api_event("POST", "/messagesx")),
    not_found("POST /other", api_event("POST", "/other")),
    not_found("GET /other/messages", api_event("GET", "/other/messages", BODY)),
    not_found("GET under a prefix", api_event("GET", "/v1/messages/m-1")),
]

CASES = TYPES + PAYLOADS + IDS + ATTRIBUTES + DOCUMENTS + BASE64 + SIZES + MEDIA_TYPES + ROUTES
PARAMS = [pytest.param(case, id=case.name) for case in CASES]
