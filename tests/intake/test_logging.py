"""Structured JSON logs: one line per step with ids and outcome, AWS codes, never the payload."""

from __future__ import annotations

import json
import logging

import pytest

from model.core.events import submit_event
from model.core.plans import Fault, FaultKind

LOGGER = "queuecheck.reference"
MARKER = "payload-marker-5c1e9a"
PUT, SEND, UPDATE = "dynamodb.PutItem", "sqs.SendMessage", "dynamodb.UpdateItem"
ID = "log-1"
MESSAGE = {"type": "t", "payload": {"secret": MARKER, MARKER: [MARKER]}, "messageId": ID}


@pytest.fixture
def lines(caplog):
    """The handler's log lines so far, each parsed as JSON."""
    caplog.set_level(logging.INFO, logger=LOGGER)

    def parsed() -> list[dict]:
        return [json.loads(r.getMessage()) for r in caplog.records if r.name == LOGGER]

    return parsed


def test_every_line_is_json_with_step_outcome_and_request_id(driver, lines):
    """Each log line is a JSON object naming the step, its outcome and the requestId."""
    driver.submit(MESSAGE, request_id="req-log-1")

    logged = lines()
    assert logged
    for line in logged:
        assert {"step", "outcome", "requestId"} <= set(line)
        assert "req-log-1" == line["requestId"]


def test_happy_path_logs_each_step_with_the_message_id(driver, lines):
    """Storing, sending and the status update each leave a line carrying the messageId."""
    driver.submit(MESSAGE)

    steps = [line["step"] for line in lines() if line.get("messageId") == ID]
    assert 3 <= len(steps)
    assert len(set(steps)) >= 3


@pytest.mark.parametrize(
    ("operation", "kind", "code"),
    [
        (PUT, FaultKind.THROTTLE, "ProvisionedThroughputExceededException"),
        (PUT, FaultKind.ACCESS_DENIED, "AccessDeniedException"),
        (SEND, FaultKind.THROTTLE, "RequestThrottled"),
        (SEND, FaultKind.SERVER_ERROR, "InternalError"),
        (SEND, FaultKind.ACCESS_DENIED, "AccessDenied"),
        (UPDATE, FaultKind.THROTTLE, "ProvisionedThroughputExceededException"),
        (UPDATE, FaultKind.SERVER_ERROR, "InternalServerError"),
    ],
)
def test_failure_logs_the_aws_error_code(driver, sandbox, lines, operation, kind, code):
    """A failed call is logged at ERROR with the AWS error code, the ids and the step."""
    sandbox.injector.plan(Fault(operation, kind, times=None))

    driver.submit(MESSAGE, request_id="req-log-2")

    failures = [line for line in lines() if code in json.dumps(line)]
    assert failures
    assert all(("req-log-2", ID) == (f["requestId"], f.get("messageId")) for f in failures)


def test_failures_are_logged_at_error_level(driver, sandbox, caplog):
    """The line for a failed send is an ERROR record."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    sandbox.injector.plan(Fault(SEND, FaultKind.THROTTLE, times=None))

    driver.submit(MESSAGE)

    assert any(
        r.levelno >= logging.ERROR and "RequestThrottled" in r.getMessage()
        for r in caplog.records
        if r.name == LOGGER
    )


def test_validation_rejection_is_logged(driver, lines):
    """A rejected request leaves a line with its requestId."""
    driver.submit({"type": "1", "payload": {}}, request_id="req-log-3")

    assert any("req-log-3" == line["requestId"] for line in lines())


def marker_runs():
    """Requests that exercise every logging path, each with the marker in its payload."""

    def happy(driver, sandbox, dynamodb):
        driver.submit(MESSAGE)
        driver.submit(MESSAGE)

    def conflict(driver, sandbox, dynamodb):
        driver.submit({**MESSAGE, "payload": {"k": 1}})
        driver.submit(MESSAGE)

    def rejected(driver, sandbox, dynamodb):
        driver.submit({**MESSAGE, "unknown": 1})
        driver.submit({**MESSAGE, "type": "1"})

    def send_fails(driver, sandbox, dynamodb):
        sandbox.injector.plan(Fault(SEND, FaultKind.ACCESS_DENIED, times=None))
        sandbox.injector.plan(Fault(UPDATE, FaultKind.THROTTLE, times=None))
        driver.submit(MESSAGE)

    def update_fails(driver, sandbox, dynamodb):
        sandbox.injector.plan(Fault(UPDATE, FaultKind.SERVER_ERROR, times=None))
        driver.submit(MESSAGE)

    def crash(driver, sandbox, dynamodb):
        sandbox.injector.plan(Fault(UPDATE, FaultKind.CRASH))
        driver.submit(MESSAGE)
        driver.submit(MESSAGE)

    def unexpected(driver, sandbox, dynamodb):
        with sandbox.injector.pause():
            dynamodb.put_item(
                TableName=sandbox.table_name,
                Item={"messageId": {"S": ID}, "ttl": {"S": "not-a-number"}},
            )
        driver.submit(MESSAGE)

    def base64(driver, sandbox, dynamodb):
        driver.invoke(submit_event(json.dumps(MESSAGE), base64_encoded=True))

    runs = [happy, conflict, rejected, send_fails, update_fails, crash, unexpected, base64]
    return [pytest.param(run, id=run.__name__) for run in runs]


@pytest.mark.parametrize("run", marker_runs())
def test_payload_content_is_never_logged(driver, sandbox, dynamodb, caplog, run):
    """No line of the handler's log (nor a traceback it logs) ever contains payload content."""
    caplog.set_level(logging.DEBUG, logger=LOGGER)

    run(driver, sandbox, dynamodb)

    formatter = logging.Formatter("%(message)s")
    mine = [formatter.format(r) for r in caplog.records if r.name.startswith(LOGGER)]
    assert mine
    assert [] == [line for line in mine if MARKER in line]
