"""Configuration from the environment: missing or invalid values are a clean SYSTEM_ERROR."""

from __future__ import annotations

import json
import logging

import pytest

from model.core.events import get_event, submit_event

MESSAGE = {"type": "t", "payload": {"k": "v"}}


@pytest.mark.parametrize(
    ("unset", "empty"),
    [
        (["MESSAGES_TABLE"], []),
        (["MESSAGES_QUEUE_URL"], []),
        (["MESSAGES_TABLE", "MESSAGES_QUEUE_URL"], []),
        ([], ["MESSAGES_TABLE"]),
        ([], ["MESSAGES_QUEUE_URL"]),
    ],
    ids=["table", "queue", "both", "empty-table", "empty-queue"],
)
def test_missing_configuration_is_a_clean_system_error(
    invoke_raw, monkeypatch, nothing_happened, assert_clean, unset, empty
):
    """Without table or queue (unset, or set to nothing) a submit is 500 SYSTEM_ERROR with no
    Retry-After, in the documented shape with the event's requestId and nothing from the
    inside (no traceback, no variable names); nothing is written."""
    for name in unset:
        monkeypatch.delenv(name)
    for name in empty:
        monkeypatch.setenv(name, "")

    response = invoke_raw(submit_event(MESSAGE, request_id="req-cfg"))

    assert (500, "SYSTEM_ERROR") == (response.status, response.error_code)
    assert "retry-after" not in response.headers
    assert_clean(response, "req-cfg")
    nothing_happened()


def test_missing_configuration_on_get_is_a_system_error(invoke_raw, monkeypatch):
    """GET /messages/{id} without configuration is 500 SYSTEM_ERROR too."""
    monkeypatch.delenv("MESSAGES_TABLE")

    response = invoke_raw(get_event("some-id"))

    assert (500, "SYSTEM_ERROR") == (response.status, response.error_code)


def test_missing_configuration_is_logged(invoke_raw, monkeypatch, caplog):
    """The log says which variable is missing, at ERROR."""
    caplog.set_level(logging.INFO, logger="queuecheck.reference")
    monkeypatch.delenv("MESSAGES_QUEUE_URL")

    invoke_raw(submit_event(MESSAGE, request_id="req-cfg-log"))

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("MESSAGES_QUEUE_URL" in r.getMessage() for r in errors)
    assert any("req-cfg-log" == json.loads(r.getMessage()).get("requestId") for r in errors)


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "7d"])
def test_invalid_ttl_is_a_system_error(driver, monkeypatch, nothing_happened, value):
    """A MESSAGE_TTL_SECONDS that is not a positive integer is 500 SYSTEM_ERROR."""
    monkeypatch.setenv("MESSAGE_TTL_SECONDS", value)

    response = driver.submit(MESSAGE)

    assert (500, "SYSTEM_ERROR") == (response.status, response.error_code)
    assert "retry-after" not in response.headers
    nothing_happened()


def test_unset_ttl_is_seven_days_after_creation(driver, sandbox, monkeypatch):
    """Without MESSAGE_TTL_SECONDS a record's ``ttl`` is its creation time in epoch seconds
    plus 604800 (seven days)."""
    monkeypatch.delenv("MESSAGE_TTL_SECONDS", raising=False)

    response = driver.submit(MESSAGE)

    item = sandbox.items()[response.body["messageId"]]
    assert 202 == response.status
    assert int(_epoch(item["createdAt"])) + 604_800 == item["ttl"]


def test_ttl_follows_message_ttl_seconds_read_per_invocation(driver, sandbox, monkeypatch):
    """MESSAGE_TTL_SECONDS sets how many seconds after creation a record expires, and a changed
    value applies from the next invocation on: a minute, a day, then one second."""
    lifetimes = {}
    for number, seconds in enumerate([60, 86_400, 1]):
        monkeypatch.setenv("MESSAGE_TTL_SECONDS", str(seconds))
        response = driver.submit({"type": "t", "payload": {"n": number}})
        lifetimes[response.body["messageId"]] = seconds

    items = sandbox.items()
    assert [60, 86_400, 1] == [
        items[message_id]["ttl"] - int(_epoch(items[message_id]["createdAt"]))
        for message_id in lifetimes
    ]


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
