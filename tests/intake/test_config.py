"""Configuration from the environment: missing or invalid values are a clean SYSTEM_ERROR."""

from __future__ import annotations

import json
import logging

import pytest

from model.core.events import get_event, submit_event

MESSAGE = {"type": "t", "payload": {"k": "v"}}


@pytest.mark.parametrize(
    "missing",
    [["MESSAGES_TABLE"], ["MESSAGES_QUEUE_URL"], ["MESSAGES_TABLE", "MESSAGES_QUEUE_URL"]],
    ids=["table", "queue", "both"],
)
def test_missing_configuration_is_a_system_error(
    invoke_raw, monkeypatch, nothing_happened, missing
):
    """Without table or queue, a submit is 500 SYSTEM_ERROR and nothing is written."""
    for name in missing:
        monkeypatch.delenv(name)

    response = invoke_raw(submit_event(MESSAGE, request_id="req-cfg"))

    assert (500, "SYSTEM_ERROR") == (response.status, response.error_code)
    assert "req-cfg" == response.body["error"]["requestId"]
    assert "Traceback" not in response.raw_body
    nothing_happened()


@pytest.mark.parametrize("name", ["MESSAGES_TABLE", "MESSAGES_QUEUE_URL"])
def test_empty_configuration_counts_as_missing(invoke_raw, monkeypatch, nothing_happened, name):
    """An empty value is as good as none."""
    monkeypatch.setenv(name, "")

    response = invoke_raw(submit_event(MESSAGE))

    assert 500 == response.status
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


def test_unset_ttl_uses_the_default(driver, sandbox, monkeypatch):
    """Without MESSAGE_TTL_SECONDS records live 604800 seconds."""
    monkeypatch.delenv("MESSAGE_TTL_SECONDS", raising=False)
    response = driver.submit(MESSAGE)

    item = sandbox.items()[response.body["messageId"]]
    with_default = item["ttl"] - 604_800
    assert 202 == response.status
    assert abs(with_default - _epoch(item["createdAt"])) < 2


def test_configuration_is_read_per_invocation(driver, sandbox, monkeypatch):
    """A changed MESSAGE_TTL_SECONDS applies from the next invocation on."""
    monkeypatch.setenv("MESSAGE_TTL_SECONDS", "100")
    first = driver.submit({"type": "t", "payload": {"n": 1}}).body["messageId"]
    monkeypatch.setenv("MESSAGE_TTL_SECONDS", "200")
    second = driver.submit({"type": "t", "payload": {"n": 2}}).body["messageId"]

    items = sandbox.items()
    assert 100 == items[first]["ttl"] - int(_epoch(items[first]["createdAt"]))
    assert 200 == items[second]["ttl"] - int(_epoch(items[second]["createdAt"]))


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
