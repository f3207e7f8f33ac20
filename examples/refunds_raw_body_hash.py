"""Refund intake behind an API Gateway REST API (proxy integration, payload format 1.0).

BUGGY ON PURPOSE (a queuecheck example): repeats are told apart from conflicts by a hash of
the raw request body. A client's retry of the same refund is the same JSON document, but not
always the same text: other key order, other spacing, ``\\u`` escapes, or a base64 body. The
handler then takes its own retry for "another refund under the same id" and answers 409, so a
refund whose first answer was lost can never be confirmed. Everything else is done right.

POST /refunds with {"refundId": "...", "request": {...}}: store PENDING, send to the refunds
queue, set QUEUED; the payment service moves refunds on to PAID.

Environment: REFUNDS_TABLE (string key refundId) and REFUNDS_QUEUE_URL.
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

PENDING, QUEUED = "PENDING", "QUEUED"


class BadRequest(Exception):
    """The request is not a refund; the message is safe to return."""


@functools.cache
def _client(service):
    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))


def _answer(status, body, headers=None):
    headers = {"Content-Type": "application/json", **(headers or {})}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def _code(exc):
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def _refund(event):
    raw = event.get("body") or ""
    # BUG: the fingerprint of a refund is taken from the body as sent, not from its content.
    fingerprint = hashlib.sha256(raw.encode()).hexdigest()
    try:
        if event.get("isBase64Encoded"):
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        body = json.loads(raw) if raw else None
    except ValueError as exc:
        raise BadRequest("the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    refund_id, request = body.get("refundId"), body.get("request")
    if not isinstance(refund_id, str) or not 0 < len(refund_id) <= 128:
        raise BadRequest("refundId must be a string of 1 to 128 characters")
    if not isinstance(request, dict):
        raise BadRequest("request must be an object")
    return refund_id, request, fingerprint


def handler(event, context):
    if not isinstance(event, dict) or (event.get("httpMethod"), event.get("path")) != (
        "POST",
        "/refunds",
    ):
        return _answer(404, {"message": "not found"})
    try:
        return _take(*_refund(event))
    except BadRequest as exc:
        return _answer(400, {"message": str(exc)})
    except (ClientError, BotoCoreError) as exc:
        code = _code(exc) or type(exc).__name__
        log.warning("refund intake: AWS call failed (%s)", code)
        if "AccessDenied" in code:
            return _answer(500, {"message": "internal error"})
        return _answer(503, {"message": "try again later"}, {"Retry-After": "1"})


def _take(refund_id, request, fingerprint):
    dynamodb, table = _client("dynamodb"), os.environ["REFUNDS_TABLE"]
    key = {"refundId": {"S": refund_id}}
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **key,
                "request": {"S": json.dumps(request, sort_keys=True)},
                "fingerprint": {"S": fingerprint},
                "refundState": {"S": PENDING},
                "createdAt": {"S": now},
            },
            ConditionExpression="attribute_not_exists(refundId)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        old = exc.response.get("Item")
        if _code(exc) != "ConditionalCheckFailedException" or old is None:
            raise
        if old["fingerprint"]["S"] != fingerprint:
            return _answer(409, {"message": "refundId already used for another refund"})
        if old["refundState"]["S"] != PENDING:
            return _answer(200, {"refundId": refund_id, "state": old["refundState"]["S"]})
    _client("sqs").send_message(
        QueueUrl=os.environ["REFUNDS_QUEUE_URL"],
        MessageBody=json.dumps({"refundId": refund_id, "request": request}),
    )
    try:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET refundState = :queued, queuedAt = :now",
            ConditionExpression="refundState = :pending AND fingerprint = :fingerprint",
            ExpressionAttributeValues={
                ":queued": {"S": QUEUED},
                ":pending": {"S": PENDING},
                ":fingerprint": {"S": fingerprint},
                ":now": {"S": now},
            },
        )
    except ClientError as exc:
        if _code(exc) != "ConditionalCheckFailedException":
            raise
        current = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        state = current["refundState"]["S"] if current else PENDING
        if not current or current["fingerprint"]["S"] != fingerprint or state == PENDING:
            raise
        return _answer(202, {"refundId": refund_id, "state": state})
    return _answer(202, {"refundId": refund_id, "state": QUEUED})
