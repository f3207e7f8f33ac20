"""Reminder intake behind an API Gateway REST API (proxy integration, payload format 1.0).

POST /reminders with {"reminderId": "...", "schedule": {...}}: store the reminder once, as
QUEUED, in REMINDERS_TABLE (string key pk), then send it to the scheduler's queue
(REMINDERS_QUEUE_URL). There is no second status: the scheduler moves reminders on to
SCHEDULED and FIRED, and it ignores a reminder it has already seen (it deduplicates by
reminderId).

Because the record is written before the send, a record at QUEUED does not prove its message
went out: the send may have failed, or the invocation may have died in between. So a repeat of
a reminder that is still QUEUED sends the message again (at least once: the scheduler
deduplicates) and answers 200; one the scheduler already moved on is a 200 that sends
nothing; another schedule under the same id is a 409. When SQS refuses the message the
record stays, and the caller gets a 503: its retry sends it.
"""

import base64
import functools
import hashlib
import json
import logging
import os
from datetime import UTC, datetime

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)

QUEUED = "QUEUED"


class BadRequest(Exception):
    """The request is not a reminder (the message is safe to show the caller)."""


@functools.cache
def _client(service):
    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))


def _answer(status, body, headers=None):
    headers = {"Content-Type": "application/json", **(headers or {})}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def _code(exc):
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def _parse(event):
    raw = event.get("body")
    if not raw:
        raise BadRequest("a JSON body is required")
    try:
        data = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw
        body = json.loads(data)
    except ValueError as exc:
        raise BadRequest("the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    reminder_id, schedule = body.get("reminderId"), body.get("schedule")
    if not isinstance(reminder_id, str) or not 0 < len(reminder_id) <= 200:
        raise BadRequest("reminderId must be a string of 1 to 200 characters")
    if not isinstance(schedule, dict):
        raise BadRequest("schedule must be an object")
    return reminder_id, schedule


def handler(event, context):
    route = (event.get("httpMethod"), event.get("path")) if isinstance(event, dict) else None
    if route != ("POST", "/reminders"):
        return _answer(404, {"message": "not found"})
    try:
        return _submit(*_parse(event))
    except BadRequest as exc:
        return _answer(400, {"message": str(exc)})
    except (ClientError, BotoCoreError) as exc:
        code = _code(exc) or type(exc).__name__
        log.warning("reminder intake: AWS call failed (%s)", code)
        if "AccessDenied" in code:  # a permissions problem: retrying will not help
            return _answer(500, {"message": "internal error"})
        return _answer(503, {"message": "try again later"}, {"Retry-After": "1"})


def _submit(reminder_id, schedule):
    schedule_json = json.dumps(schedule, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(schedule_json.encode()).hexdigest()
    try:
        _client("dynamodb").put_item(
            TableName=os.environ["REMINDERS_TABLE"],
            Item={
                "pk": {"S": f"REM#{reminder_id}"},
                "reminderId": {"S": reminder_id},
                "schedule": {"S": schedule_json},
                "digest": {"S": digest},
                "state": {"S": QUEUED},
                "createdAt": {"S": datetime.now(UTC).isoformat(timespec="milliseconds")},
            },
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        old = exc.response.get("Item")
        if _code(exc) != "ConditionalCheckFailedException" or old is None:
            raise
        if old["digest"]["S"] != digest:
            return _answer(409, {"message": "reminderId already used for another schedule"})
        if old["state"]["S"] != QUEUED:  # the scheduler has it: nothing left to send
            return _answer(200, {"reminderId": reminder_id, "state": old["state"]["S"]})
        # Still QUEUED: an earlier attempt may have stopped before its send. Send again.
        _send(reminder_id, schedule)
        return _answer(200, {"reminderId": reminder_id, "state": QUEUED})
    _send(reminder_id, schedule)
    return _answer(202, {"reminderId": reminder_id, "state": QUEUED})


def _send(reminder_id, schedule):
    message = {"reminder": {"id": reminder_id, "schedule": schedule}}
    _client("sqs").send_message(
        QueueUrl=os.environ["REMINDERS_QUEUE_URL"], MessageBody=json.dumps(message)
    )
