"""The request body's limits: at most 256 KiB decoded, and JSON in UTF-8 as its Content-Type."""

from __future__ import annotations

import json

import pytest

LIMIT = 256 * 1024


def sized(size: int, filler: str = "a") -> bytes:
    """A compact, valid submission of exactly ``size`` UTF-8 bytes (padding in the payload)."""
    base = len(json.dumps({"type": "t", "payload": {"p": ""}}, separators=(",", ":")))
    need = size - base
    width = len(filler.encode())
    pad = filler * (need // width) + "a" * (need % width)
    text = json.dumps(
        {"type": "t", "payload": {"p": pad}}, separators=(",", ":"), ensure_ascii=False
    )
    raw = text.encode()
    assert size == len(raw)
    return raw


@pytest.mark.parametrize("base64_encoded", [False, True], ids=["plain", "base64"])
def test_body_of_exactly_256_kib_is_accepted(driver, sandbox, base64_encoded):
    """A body of exactly 256 * 1024 decoded bytes is within the limit."""
    response = driver.submit(sized(LIMIT), base64_encoded=base64_encoded)

    assert 202 == response.status
    assert 1 == len(sandbox.messages())


@pytest.mark.parametrize("base64_encoded", [False, True], ids=["plain", "base64"])
def test_body_one_byte_over_256_kib_is_too_large(driver, nothing_happened, base64_encoded):
    """One byte more than 256 KiB is 413 PAYLOAD_TOO_LARGE, and nothing is written."""
    response = driver.submit(sized(LIMIT + 1), base64_encoded=base64_encoded)

    assert 413 == response.status
    assert "PAYLOAD_TOO_LARGE" == response.error_code
    nothing_happened()


def test_limit_counts_utf8_bytes_not_characters(driver, nothing_happened):
    """A body under 256 Ki characters but over 256 KiB in UTF-8 is too large."""
    raw = sized(LIMIT + 1, filler="\u00e9")
    assert len(raw.decode()) < LIMIT

    response = driver.submit(raw)

    assert 413 == response.status
    nothing_happened()


def test_far_too_large_base64_body_is_refused(driver, nothing_happened):
    """A base64 body decoding to several MiB is 413 as well."""
    response = driver.submit(sized(4 * LIMIT), base64_encoded=True)

    assert 413 == response.status
    nothing_happened()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Content-Type": "application/json"},
        {"content-type": "application/json"},
        {"CONTENT-TYPE": "Application/JSON"},
        {"Content-Type": "application/json; charset=utf-8"},
        {"Content-Type": "application/json;charset=UTF-8"},
        {"Content-Type": 'application/json; charset="utf-8"'},
    ],
    ids=["missing", "plain", "lower-name", "upper", "charset", "charset-upper", "charset-quoted"],
)
def test_json_content_types_are_accepted(driver, post_event, headers):
    """JSON in UTF-8, or no Content-Type at all, is accepted."""
    event = post_event(json.dumps({"type": "t", "payload": {}}), headers)

    response = driver.invoke(event)

    assert 202 == response.status


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
        "application/json; charset=iso-8859-1",
    ],
)
def test_other_content_types_are_unsupported(driver, post_event, nothing_happened, content_type):
    """A body that is not JSON, or not UTF-8, is 415 UNSUPPORTED_MEDIA_TYPE; nothing written."""
    event = post_event(json.dumps({"type": "t", "payload": {}}), {"Content-Type": content_type})

    response = driver.invoke(event)

    assert 415 == response.status
    assert "UNSUPPORTED_MEDIA_TYPE" == response.error_code
    nothing_happened()


def test_content_type_header_name_is_case_insensitive(driver, post_event, nothing_happened):
    """``content-type: text/plain`` in lower case is still read, and refused."""
    event = post_event(json.dumps({"type": "t", "payload": {}}), {"content-type": "text/plain"})

    response = driver.invoke(event)

    assert 415 == response.status
    nothing_happened()
