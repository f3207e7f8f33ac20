"""Notice intake behind an API Gateway REST API (proxy integration, payload format 1.0).

BUGGY ON PURPOSE (a queuecheck example): a repeat of a notice that is already stored is
answered 200 "already exists" without sending anything. The record is written once, as
QUEUED, before the send, so a stored record does not prove its message went out: if the send
fails, or the invocation dies between the write and the send (a Lambda timeout), the notice
stays QUEUED with no message, and every retry of the caller is told it already exists. The
message is lost for good and nothing reports it. Everything else is done right.

POST /notices with {"noticeId": "...", "letter": {...}}: store the notice as QUEUED in
NOTICES_TABLE (string key pk), then send it to the mailing queue (NOTICES_QUEUE_URL); the
mailing service moves notices on to PRINTED and POSTED. Another letter under the same id is a
409; when SQS refuses the message the record stays and the caller gets a 503.
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
    """The request is not a notice (the message is safe to show the caller)."""


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
    notice_id, letter = body.get("noticeId"), body.get("letter")
    if not isinstance(notice_id, str) or not 0 < len(notice_id) <= 200:
        raise BadRequest("noticeId must be a string of 1 to 200 characters")
    if not isinstance(letter, dict):
        raise BadRequest("letter must be an object")
    return notice_id, letter


def handler(event, context):
    route = (event.get("httpMethod"), event.get("path")) if isinstance(event, dict) else None
    if route != ("POST", "/notices"):
        return _answer(404, {"message": "not found"})
    try:
        return _submit(*_parse(event))
    except BadRequest as exc:
        return _answer(400, {"message": str(exc)})
    except (ClientError, BotoCoreError) as exc:
        code = _code(exc) or type(exc).__name__
        log.warning("notice intake: AWS call failed (%s)", code)
        if "AccessDenied" in code:  # a permissions problem: retrying will not help
            return _answer(500, {"message": "internal error"})
        return _answer(503, {"message": "try again later"}, {"Retry-After": "1"})


def _submit(notice_id, letter):
    letter_json = json.dumps(letter, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(letter_json.encode()).hexdigest()
    try:
        _client("dynamodb").put_item(
            TableName=os.environ["NOTICES_TABLE"],
            Item={
                "pk": {"S": f"NTC#{notice_id}"},
                "noticeId": {"S": notice_id},
                "letter": {"S": letter_json},
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
            return _answer(409, {"message": "noticeId already used for another letter"})
        # BUG: a stored notice is taken as a sent one. One that is still QUEUED may be the
        # record of an attempt that never reached its send.
        return _answer(
            200, {"noticeId": notice_id, "state": old["state"]["S"], "message": "already exists"}
        )
    _send(notice_id, letter)
    return _answer(202, {"noticeId": notice_id, "state": QUEUED})


def _send(notice_id, letter):
    message = {"notice": {"id": notice_id, "letter": letter}}
    _client("sqs").send_message(
        QueueUrl=os.environ["NOTICES_QUEUE_URL"], MessageBody=json.dumps(message)
    )
