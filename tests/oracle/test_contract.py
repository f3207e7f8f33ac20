"""What makes a request valid (DESIGN.md section 1), as ``contract.judge`` decides it: the
shared table of requests and answers, then properties over any request."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from validation_cases import PARAMS, Case, doc, post

from model.core.contract import (
    ERROR_STATUSES,
    Content,
    Lookup,
    Rejection,
    Submission,
    judge,
)
from model.core.events import api_event

ID_RULE = re.compile(r"[A-Za-z0-9_-]{1,128}")
TYPE_RULE = re.compile(r"[A-Za-z][A-Za-z0-9._:-]{0,127}")


def expected_answer(case: Case) -> tuple[Any, ...]:
    """The table's answer, as ``answer_of`` reads a judgement."""
    if case.status == 202:
        accepted = (case.message_id, case.type, case.payload, case.attributes, case.payload_hash)
        return (202, None, *accepted)
    if case.status == 200:
        return (200, None, case.message_id)
    return (case.status, case.code, case.allow)


def answer_of(judged: Submission | Lookup | Rejection) -> tuple[Any, ...]:
    """A judgement as status and code, with the record a submission makes (id, type, payload
    text, attributes, content hash), the id a lookup reads, or the method a 405 allows."""
    if isinstance(judged, Submission):
        content = judged.content
        attributes = None if content.attributes is None else dict(content.attributes)
        made = (judged.message_id, content.type, content.payload_json, attributes)
        return (202, None, *made, content.fingerprint())
    if isinstance(judged, Lookup):
        return (200, None, judged.message_id)
    return (judged.status, judged.code, judged.allow)


@pytest.mark.parametrize("case", PARAMS)
def test_judge_answers_as_the_table_says(case: Case) -> None:
    """Each request of the shared table (``tests/validation_cases.py``) is read as DESIGN.md
    section 1 says: a submission with exactly that id, type, canonical payload text,
    attributes and content hash; a lookup of that id; or a rejection with the documented
    status and code (and, for a 405, the method to allow)."""
    assert expected_answer(case) == answer_of(judge(case.event))


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
