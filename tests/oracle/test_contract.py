"""What makes a request valid (DESIGN.md section 1), as ``contract.judge`` decides it."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.core.contract import (
    ERROR_STATUSES,
    MAX_BODY_BYTES,
    Content,
    Lookup,
    Rejection,
    Submission,
    judge,
)
from model.core.events import api_event

BAD = Rejection(400, "VALIDATION_ERROR")
TOO_LARGE = Rejection(413, "PAYLOAD_TOO_LARGE")
MEDIA = Rejection(415, "UNSUPPORTED_MEDIA_TYPE")
NOT_FOUND = Rejection(404, "NOT_FOUND")
NOT_ALLOWED = Rejection(405, "METHOD_NOT_ALLOWED")
ID_RULE = re.compile(r"[A-Za-z0-9_-]{1,128}")
TYPE_RULE = re.compile(r"[A-Za-z][A-Za-z0-9._:-]{0,127}")
PAYLOAD = {"orderId": "o-1"}


def sha256_of_content(type_: str, payload: Any, attributes: dict[str, str] | None) -> str:
    """The content-derived id, computed from DESIGN.md alone: SHA-256 of the canonical JSON of
    ``{type, payload, attributes}`` (sorted keys, no whitespace, UTF-8; absent attributes: {})."""
    document = {"type": type_, "payload": payload, "attributes": attributes or {}}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def post(
    body: Any,
    headers: dict[str, str] | None = None,
    *,
    b64: bool = False,
    media: str | None = "application/json",
) -> dict[str, Any]:
    """``POST /messages``; a dict or list body is serialised, text or bytes are sent as they are."""
    text = json.dumps(body) if isinstance(body, dict | list) else body
    all_headers = {} if media is None else {"Content-Type": media}
    all_headers.update(headers or {})
    return api_event("POST", "/messages", text, all_headers, base64_encoded=b64)


def doc(**fields: Any) -> dict[str, Any]:
    """A submission body: a valid type and payload unless overridden."""
    return {"type": "order.created", "payload": PAYLOAD, **fields}


def accepted(
    message_id: str | None = None,
    type_: str = "order.created",
    payload: Any = None,
    attributes: dict[str, str] | None = None,
) -> Submission:
    payload = PAYLOAD if payload is None else payload
    content = Content.of(type_, payload, attributes)
    return Submission(message_id or sha256_of_content(type_, payload, attributes), content)


def sized(total_bytes: int, char: str = "x") -> str:
    """A valid body of exactly ``total_bytes`` UTF-8 bytes."""
    prefix, suffix = '{"type":"a","payload":{"p":"', '"}}'
    fill = (total_bytes - len(prefix) - len(suffix)) // len(char.encode("utf-8"))
    text = prefix + char * fill + suffix
    assert total_bytes == len(text.encode("utf-8"))
    return text


def attributes(count: int) -> dict[str, str]:
    return {f"k{i}": "v" for i in range(count)}


TYPE_CASES = [
    pytest.param(post(doc(type="a")), accepted(type_="a"), id="type one letter"),
    pytest.param(post(doc(type="Z")), accepted(type_="Z"), id="type capital letter"),
    pytest.param(
        post(doc(type="a" + "b" * 127)), accepted(type_="a" + "b" * 127), id="type 128 chars"
    ),
    pytest.param(post(doc(type="a" + "b" * 128)), BAD, id="type 129 chars"),
    pytest.param(post(doc(type="a.b_c:d-e9")), accepted(type_="a.b_c:d-e9"), id="type punctuation"),
    pytest.param(post(doc(type="")), BAD, id="type empty"),
    pytest.param(post(doc(type="1abc")), BAD, id="type starts with a digit"),
    pytest.param(post(doc(type="_abc")), BAD, id="type starts with underscore"),
    pytest.param(post(doc(type=".abc")), BAD, id="type starts with a dot"),
    pytest.param(post(doc(type="a b")), BAD, id="type with space"),
    pytest.param(post(doc(type="a/b")), BAD, id="type with slash"),
    pytest.param(post(doc(type="abc\n")), BAD, id="type with trailing newline"),
    pytest.param(post(doc(type="\u00e9t\u00e9")), BAD, id="type non-ascii"),
    pytest.param(post(doc(type=5)), BAD, id="type a number"),
    pytest.param(post(doc(type=None)), BAD, id="type null"),
    pytest.param(post({"payload": PAYLOAD}), BAD, id="type missing"),
]

PAYLOAD_CASES = [
    pytest.param(post(doc(payload={})), accepted(payload={}), id="payload empty object"),
    pytest.param(
        post(doc(payload={"a": [1, {"b": None}], "c": 1.5})),
        accepted(payload={"a": [1, {"b": None}], "c": 1.5}),
        id="payload nested",
    ),
    pytest.param(post(doc(payload=[])), BAD, id="payload array"),
    pytest.param(post(doc(payload="text")), BAD, id="payload string"),
    pytest.param(post(doc(payload=1)), BAD, id="payload number"),
    pytest.param(post(doc(payload=None)), BAD, id="payload null"),
    pytest.param(post({"type": "order.created"}), BAD, id="payload missing"),
]

ID_CASES = [
    pytest.param(post(doc(messageId="m-1")), accepted("m-1"), id="messageId in body"),
    pytest.param(post(doc(messageId="A")), accepted("A"), id="messageId one char"),
    pytest.param(post(doc(messageId="x" * 128)), accepted("x" * 128), id="messageId 128 chars"),
    pytest.param(post(doc(messageId="x" * 129)), BAD, id="messageId 129 chars"),
    pytest.param(post(doc(messageId="")), BAD, id="messageId empty"),
    pytest.param(post(doc(messageId="a.b")), BAD, id="messageId with dot"),
    pytest.param(post(doc(messageId="a b")), BAD, id="messageId with space"),
    pytest.param(post(doc(messageId="m-1\n")), BAD, id="messageId trailing newline"),
    pytest.param(post(doc(messageId=7)), BAD, id="messageId a number"),
    pytest.param(post(doc(messageId=None)), BAD, id="messageId null"),
    pytest.param(
        post(doc(), {"Idempotency-Key": "key-1"}), accepted("key-1"), id="Idempotency-Key used"
    ),
    pytest.param(
        post(doc(), {"idempotency-key": "key-1"}), accepted("key-1"), id="header name any case"
    ),
    pytest.param(
        post(doc(), {"IDEMPOTENCY-KEY": "key-1"}), accepted("key-1"), id="header name upper"
    ),
    pytest.param(post(doc(), {"Idempotency-Key": "bad key"}), BAD, id="header breaks id rule"),
    pytest.param(post(doc(), {"Idempotency-Key": ""}), BAD, id="header empty"),
    pytest.param(post(doc(), {"Idempotency-Key": "k" * 129}), BAD, id="header 129 chars"),
    pytest.param(
        post(doc(messageId="m-1"), {"Idempotency-Key": "m-1"}),
        accepted("m-1"),
        id="body and header agree",
    ),
    pytest.param(
        post(doc(messageId="m-1"), {"Idempotency-Key": "m-2"}), BAD, id="body and header differ"
    ),
    pytest.param(
        post(doc(messageId="m-1"), {"Idempotency-Key": "bad key"}),
        BAD,
        id="body id valid, header invalid",
    ),
    pytest.param(post(doc()), accepted(), id="no id: derived from content"),
]

ATTRIBUTE_CASES = [
    pytest.param(
        post(doc(attributes={"tenant": "acme"})),
        accepted(attributes={"tenant": "acme"}),
        id="attributes one",
    ),
    pytest.param(post(doc(attributes={})), accepted(attributes={}), id="attributes empty"),
    pytest.param(
        post(doc(attributes=attributes(10))), accepted(attributes=attributes(10)), id="10 entries"
    ),
    pytest.param(post(doc(attributes=attributes(11))), BAD, id="11 entries"),
    pytest.param(
        post(doc(attributes={"a.B_c-9": "v"})),
        accepted(attributes={"a.B_c-9": "v"}),
        id="name punctuation",
    ),
    pytest.param(
        post(doc(attributes={"k" * 256: "v"})),
        accepted(attributes={"k" * 256: "v"}),
        id="name 256 chars",
    ),
    pytest.param(post(doc(attributes={"k" * 257: "v"})), BAD, id="name 257 chars"),
    pytest.param(post(doc(attributes={"": "v"})), BAD, id="name empty"),
    pytest.param(post(doc(attributes={"a b": "v"})), BAD, id="name with space"),
    pytest.param(post(doc(attributes={"a:b": "v"})), BAD, id="name with colon"),
    pytest.param(
        post(doc(attributes={"k": "v" * 256})),
        accepted(attributes={"k": "v" * 256}),
        id="value 256 chars",
    ),
    pytest.param(post(doc(attributes={"k": "v" * 257})), BAD, id="value 257 chars"),
    pytest.param(post(doc(attributes={"k": ""})), BAD, id="value empty"),
    pytest.param(post(doc(attributes={"k": 1})), BAD, id="value a number"),
    pytest.param(post(doc(attributes={"k": None})), BAD, id="value null"),
    pytest.param(post(doc(attributes={"k": {"v": "w"}})), BAD, id="value an object"),
    pytest.param(post(doc(attributes=["k", "v"])), BAD, id="attributes array"),
    pytest.param(post(doc(attributes="k=v")), BAD, id="attributes string"),
    pytest.param(post(doc(attributes=None)), BAD, id="attributes null"),
    pytest.param(post(doc(attributes={"AWS.trace": "v"})), BAD, id="reserved AWS."),
    pytest.param(post(doc(attributes={"aws.trace": "v"})), BAD, id="reserved aws."),
    pytest.param(post(doc(attributes={"Aws.trace": "v"})), BAD, id="reserved Aws."),
    pytest.param(post(doc(attributes={"Amazon.x": "v"})), BAD, id="reserved Amazon."),
    pytest.param(post(doc(attributes={"AMAZON.x": "v"})), BAD, id="reserved AMAZON."),
    pytest.param(post(doc(attributes={"amazon.x": "v"})), BAD, id="reserved amazon."),
    pytest.param(
        post(doc(attributes={"AWSx": "v", "Amazonia": "v"})),
        accepted(attributes={"AWSx": "v", "Amazonia": "v"}),
        id="prefix without the dot is not reserved",
    ),
]

DOCUMENT_CASES = [
    pytest.param(post(doc(extra=1)), BAD, id="unknown field"),
    pytest.param(post(doc(MessageId="m-1")), BAD, id="field names are case-sensitive"),
    pytest.param(post([doc()]), BAD, id="body an array"),
    pytest.param(post('"text"'), BAD, id="body a JSON string"),
    pytest.param(post("null"), BAD, id="body null"),
    pytest.param(post("{}"), BAD, id="body empty object"),
    pytest.param(post('{"type": "a", "payload": {}'), BAD, id="broken JSON"),
    pytest.param(post("{'type': 'a', 'payload': {}}"), BAD, id="single quotes"),
    pytest.param(post(""), BAD, id="empty body"),
    pytest.param(post(None), BAD, id="no body"),
    pytest.param(post('{"type":"a","payload":{"x":NaN}}'), BAD, id="NaN"),
    pytest.param(post('{"type":"a","payload":{"x":Infinity}}'), BAD, id="Infinity"),
    pytest.param(post('{"type":"a","payload":{"x":-Infinity}}'), BAD, id="-Infinity"),
    pytest.param(post('{"type":"a","payload":{"x":1e400}}'), BAD, id="1e400 overflows"),
    pytest.param(post('{"type":"a","payload":{"x":-1e400}}'), BAD, id="-1e400 overflows"),
    pytest.param(
        post('{"type":"a","payload":{"x":1e308}}'),
        accepted(type_="a", payload={"x": 1e308}),
        id="1e308 is finite",
    ),
    pytest.param(post('{"type":"a","payload":{"x":"\\ud800"}}'), BAD, id="lone surrogate value"),
    pytest.param(post('{"type":"a","payload":{"\\udfff":1}}'), BAD, id="lone surrogate key"),
    pytest.param(post('{"type":"a\\ud800","payload":{}}'), BAD, id="lone surrogate in type"),
    pytest.param(
        post('{"type":"a","payload":{"x":"\ud800"}}'), BAD, id="raw lone surrogate in text"
    ),
    pytest.param(
        post('{"type":"a","payload":{"x":"\\ud83d\\ude00"}}'),
        accepted(type_="a", payload={"x": "\U0001f600"}),
        id="surrogate pair",
    ),
    pytest.param(post('{"type":"a","type":"b","payload":{}}'), BAD, id="duplicate top key"),
    pytest.param(post('{"type":"a","payload":{"k":1,"k":2}}'), BAD, id="duplicate nested key"),
    pytest.param(
        post('{"type":"a","payload":{"k":[{"x":1,"x":1}]}}'), BAD, id="duplicate key in array"
    ),
    pytest.param(
        post('{"type":"a","payload":' + '{"a":' * 20_000 + "1" + "}" * 20_001),
        BAD,
        id="nested too deep",
    ),
]

SIZE_CASES = [
    pytest.param(post(sized(MAX_BODY_BYTES)), "accepted", id="exactly 256 KiB"),
    pytest.param(post(sized(MAX_BODY_BYTES + 1)), TOO_LARGE, id="256 KiB + 1 byte"),
    pytest.param(
        post(sized(MAX_BODY_BYTES + 1, "\u00e9")),
        TOO_LARGE,
        id="bytes count, not characters",
    ),
    pytest.param(
        post(sized(MAX_BODY_BYTES).encode("utf-8"), b64=True),
        "accepted",
        id="base64: 256 KiB decoded",
    ),
    pytest.param(
        post(sized(MAX_BODY_BYTES + 1).encode("utf-8"), b64=True),
        TOO_LARGE,
        id="base64: 256 KiB + 1 decoded",
    ),
    pytest.param(post(sized(MAX_BODY_BYTES + 2)[:-1]), TOO_LARGE, id="too large beats bad JSON"),
]

BASE64_CASES = [
    pytest.param(post(json.dumps(doc()).encode("utf-8"), b64=True), accepted(), id="base64 body"),
    pytest.param(
        {**post(None), "body": "!!not base64!!", "isBase64Encoded": True}, BAD, id="bad base64"
    ),
    pytest.param(post(b'{"type":"a","payload":{"x":"\xff"}}', b64=True), BAD, id="not UTF-8"),
    pytest.param(
        {**post(doc()), "isBase64Encoded": False}, accepted(), id="plain body, flag false"
    ),
]

MEDIA_CASES = [
    pytest.param(post(doc(), media="application/json"), accepted(), id="application/json"),
    pytest.param(post(doc(), media="Application/JSON"), accepted(), id="media type any case"),
    pytest.param(post(doc(), media="application/json; charset=utf-8"), accepted(), id="utf-8"),
    pytest.param(post(doc(), media="application/json; charset=UTF-8"), accepted(), id="UTF-8"),
    pytest.param(post(doc(), media='application/json; charset="utf-8"'), accepted(), id="quoted"),
    pytest.param(post(doc(), media="application/vnd.api+json"), accepted(), id="+json suffix"),
    pytest.param(post(doc(), media=None), accepted(), id="no Content-Type"),
    pytest.param(post(doc(), media="text/plain"), MEDIA, id="text/plain"),
    pytest.param(post(doc(), media="application/xml"), MEDIA, id="application/xml"),
    pytest.param(post(doc(), media="multipart/form-data"), MEDIA, id="multipart"),
    pytest.param(post(doc(), media="application/x-www-form-urlencoded"), MEDIA, id="form"),
    pytest.param(post(doc(), media="application/json; charset=latin-1"), MEDIA, id="latin-1"),
    pytest.param(post(doc(), media="application/json; charset=utf-16"), MEDIA, id="utf-16"),
    pytest.param(post("{", media="text/plain"), MEDIA, id="media type checked before JSON"),
    pytest.param(
        post(doc(), {"content-type": "text/plain"}, media=None), MEDIA, id="header name lower"
    ),
]

ROUTE_CASES = [
    pytest.param(api_event("GET", "/messages/m-1"), Lookup("m-1"), id="GET a record"),
    pytest.param(api_event("GET", "/messages/" + "x" * 128), Lookup("x" * 128), id="GET 128"),
    pytest.param(api_event("GET", "/messages/" + "x" * 129), NOT_FOUND, id="GET 129-char id"),
    pytest.param(api_event("GET", "/messages/a.b"), NOT_FOUND, id="GET id with dot"),
    pytest.param(api_event("GET", "/messages/m-1/x"), NOT_FOUND, id="GET below a record"),
    pytest.param(api_event("POST", "/messages/m-1"), NOT_ALLOWED, id="POST to a record"),
    pytest.param(api_event("PUT", "/messages/m-1"), NOT_ALLOWED, id="PUT a record"),
    pytest.param(api_event("DELETE", "/messages/m-1"), NOT_ALLOWED, id="DELETE a record"),
    pytest.param(api_event("GET", "/messages"), NOT_ALLOWED, id="GET the collection"),
    pytest.param(api_event("PUT", "/messages"), NOT_ALLOWED, id="PUT the collection"),
    pytest.param(api_event("DELETE", "/messages"), NOT_ALLOWED, id="DELETE the collection"),
    pytest.param(api_event("GET", "/"), NOT_FOUND, id="GET /"),
    pytest.param(api_event("POST", "/other"), NOT_FOUND, id="POST /other"),
    pytest.param(api_event("POST", "/messagesx"), NOT_FOUND, id="POST /messagesx"),
    pytest.param(api_event("GET", "/v1/messages/m-1"), NOT_FOUND, id="GET under a prefix"),
]


@pytest.mark.parametrize(
    ("event", "expected"),
    TYPE_CASES
    + PAYLOAD_CASES
    + ID_CASES
    + ATTRIBUTE_CASES
    + DOCUMENT_CASES
    + BASE64_CASES
    + MEDIA_CASES
    + ROUTE_CASES,
)
def test_judge_follows_the_contract(
    event: dict[str, Any], expected: Submission | Lookup | Rejection
) -> None:
    """Each event is read as the submission or lookup DESIGN.md section 1 says it is, or
    rejected with the documented status and code."""
    assert expected == judge(event)


@pytest.mark.parametrize(("event", "expected"), SIZE_CASES)
def test_body_size_limit_is_256_kib_decoded(
    event: dict[str, Any], expected: Rejection | str
) -> None:
    """A body of at most 256 KiB (decoded bytes) is read; one byte more is 413."""
    judged = judge(event)
    if expected == "accepted":
        assert isinstance(judged, Submission)
    else:
        assert expected == judged


def test_derived_id_is_the_sha256_of_canonical_content() -> None:
    """Without messageId or Idempotency-Key the id is the SHA-256 of canonical
    ``{type, payload, attributes}``, non-ASCII text kept as UTF-8."""
    payload = {"z": 1, "a": ["\u00fc", {"y": None, "b": 2.5}]}
    judged = judge(post(doc(payload=payload, attributes={"tenant": "acme"})))
    expected = sha256_of_content("order.created", payload, {"tenant": "acme"})
    assert isinstance(judged, Submission)
    assert expected == judged.message_id


def test_absent_attributes_derive_the_same_id_as_empty_ones() -> None:
    """Absent attributes count as {} in the content-derived id."""
    absent, empty = judge(post(doc())), judge(post(doc(attributes={})))
    assert isinstance(absent, Submission)
    assert isinstance(empty, Submission)
    assert absent.message_id == empty.message_id
    assert absent.content.fingerprint() == empty.content.fingerprint()


def test_a_given_id_does_not_change_the_content_fingerprint() -> None:
    """The id a caller chooses is not part of the content: same content, same fingerprint."""
    chosen, derived = judge(post(doc(messageId="m-1"))), judge(post(doc()))
    assert isinstance(chosen, Submission)
    assert isinstance(derived, Submission)
    assert derived.message_id == chosen.content.fingerprint()


def test_error_codes_are_the_documented_ones() -> None:
    """Every documented error code, with its documented HTTP statuses, and no other."""
    documented = {
        "VALIDATION_ERROR": {400},
        "NOT_FOUND": {404},
        "METHOD_NOT_ALLOWED": {405},
        "IDEMPOTENCY_CONFLICT": {409},
        "PAYLOAD_TOO_LARGE": {413},
        "UNSUPPORTED_MEDIA_TYPE": {415},
        "SYSTEM_ERROR": {500, 503},
    }
    assert documented == {code: set(statuses) for code, statuses in ERROR_STATUSES.items()}


# -- properties -------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(st.characters(codec="utf-8"), max_size=6),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=12,
)
field_values = st.one_of(
    json_values,
    st.sampled_from(["order.created", "m-1", "bad id", "", "AWS.x"]),
    st.dictionaries(st.sampled_from(["k", "AWS.k", "a b", ""]), json_values, max_size=3),
)
documents = st.dictionaries(
    st.sampled_from(["type", "payload", "messageId", "attributes", "extra"]),
    field_values,
    max_size=5,
)
headers = st.dictionaries(
    st.sampled_from(["Content-Type", "content-type", "Idempotency-Key", "X-Other"]),
    st.sampled_from(["application/json", "text/plain", "m-1", "", "bad key", "a;charset=x"]),
    max_size=3,
)


@given(documents, headers)
def test_judge_reads_any_json_document_without_raising(
    document: dict[str, Any], header_map: dict[str, str]
) -> None:
    """Any JSON document (NaN and Infinity included) is a Rejection or a Submission whose id
    and type follow the contract's rules."""
    judged = judge(post(json.dumps(document), header_map, media=None))
    assert type(judged) in (Rejection, Submission)
    if isinstance(judged, Submission):
        assert ID_RULE.fullmatch(judged.message_id)
        assert TYPE_RULE.fullmatch(judged.content.type)


@given(st.text(max_size=64) | st.binary(max_size=64).map(lambda raw: raw.decode("latin-1")))
def test_judge_reads_any_text_body_without_raising(body: str) -> None:
    """Arbitrary text as a body is a Rejection or a Submission, never an exception."""
    assert type(judge(post(body))) in (Rejection, Submission)


@given(st.binary(max_size=64), st.booleans())
def test_judge_reads_any_base64_body_without_raising(raw: bytes, encode: bool) -> None:
    """Arbitrary bytes base64-encoded (or an arbitrary ASCII body flagged as base64) never raise."""
    body = base64.b64encode(raw).decode("ascii") if encode else raw.decode("latin-1")
    event = {**post(None), "body": body, "isBase64Encoded": True}
    assert type(judge(event)) in (Rejection, Submission)


@given(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "get", "", "PATCH"]),
    st.text(alphabet="/mesagx-1.", max_size=24),
)
def test_judge_reads_any_route_without_raising(method: str, path: str) -> None:
    """Any method and path gets an answer: a lookup, a submission or a rejection."""
    assert type(judge(api_event(method, path, json.dumps(doc())))) in (
        Lookup,
        Rejection,
        Submission,
    )


finite_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=12,
)
payloads = st.dictionaries(st.text(max_size=5), finite_values, max_size=6)


@given(payloads, st.randoms(use_true_random=False))
def test_fingerprint_ignores_key_order(payload: dict[str, Any], random: Any) -> None:
    """Reordering a payload's keys changes neither the fingerprint nor the derived id."""
    keys = list(payload)
    random.shuffle(keys)
    shuffled = {key: payload[key] for key in keys}
    first, second = Content.of("t", payload), Content.of("t", shuffled)
    assert first.fingerprint() == second.fingerprint()
    assert first == second
