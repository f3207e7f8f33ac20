"""Receipt intake behind an API Gateway REST API (proxy integration, payload format 1.0).

BUGGY ON PURPOSE (a queuecheck example): the handler insists on a header spelled exactly
``Content-Type: application/json``. HTTP header names are case-insensitive, and a REST API
hands them over as the client spelled them; media types carry parameters (``charset=utf-8``)
and are case-insensitive too. So a client that sends ``content-type`` or
``application/json; charset=utf-8`` (curl scripts, .NET, Java, browsers' fetch) gets a 415 for
a perfectly valid receipt. Everything else is done right.

POST /receipts with {"receiptId": "...", "items": {...}}: store PENDING, send to the filing
queue, set QUEUED; the filing service moves receipts on to FILED. Repeats are idempotent
(QUEUED or later: 200, nothing sent; PENDING: finished; other items under the same id: 409).

Environment: RECEIPTS_TABLE (string key pk) and RECEIPTS_QUEUE_URL.
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


class Refused(Exception):
    """The request cannot be taken; ``status`` and the message are safe to return."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


@functools.cache
def _client(service):
    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))


def _reply(status, body, headers=None):
    headers = {"Content-Type": "application/json", **(headers or {})}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def _code(exc):
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def _receipt(event):
    # BUG: a dict lookup by one spelling of a case-insensitive header name, compared with one
    # spelling of a media type that may carry parameters.
    if (event.get("headers") or {}).get("Content-Type") != "application/json":
        raise Refused(415, "send the receipt as application/json")
    raw = event.get("body") or ""
    try:
        if event.get("isBase64Encoded"):
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        body = json.loads(raw) if raw else None
    except ValueError as exc:
        raise Refused(400, "the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise Refused(400, "the body must be a JSON object")
    receipt_id, items = body.get("receiptId"), body.get("items")
    if not isinstance(receipt_id, str) or not 0 < len(receipt_id) <= 128:
        raise Refused(400, "receiptId must be a string of 1 to 128 characters")
    if not isinstance(items, dict):
        raise Refused(400, "items must be an object")
    return receipt_id, items


def handler(event, context):
    if not isinstance(event, dict) or (event.get("httpMethod"), event.get("path")) != (
        "POST",
        "/receipts",
    ):
        return _reply(404, {"message": "not found"})
    try:
        return _take(*_receipt(event))
    except Refused as exc:
        return _reply(exc.status, {"message": str(exc)})
    except (ClientError, BotoCoreError) as exc:
        code = _code(exc) or type(exc).__name__
        log.warning("receipt intake: AWS call failed (%s)", code)
        if "AccessDenied" in code:
            return _reply(500, {"message": "internal error"})
        return _reply(503, {"message": "try again later"}, {"Retry-After": "1"})


def _take(receipt_id, items):
    dynamodb, table = _client("dynamodb"), os.environ["RECEIPTS_TABLE"]
    key = {"pk": {"S": f"RCPT#{receipt_id}"}}
    items_json = json.dumps(items, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(items_json.encode()).hexdigest()
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **key,
                "receiptId": {"S": receipt_id},
                "items": {"S": items_json},
                "digest": {"S": digest},
                "state": {"S": PENDING},
                "createdAt": {"S": now},
            },
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        old = exc.response.get("Item")
        if _code(exc) != "ConditionalCheckFailedException" or old is None:
            raise
        if old["digest"]["S"] != digest:
            return _reply(409, {"message": "receiptId already used for other items"})
        if old["state"]["S"] != PENDING:
            return _reply(200, {"receiptId": receipt_id, "state": old["state"]["S"]})
    message = {"receipt": {"id": receipt_id, "items": items}}
    _client("sqs").send_message(
        QueueUrl=os.environ["RECEIPTS_QUEUE_URL"], MessageBody=json.dumps(message)
    )
    try:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #s = :queued, queuedAt = :now",
            ConditionExpression="#s = :pending AND digest = :digest",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={
                ":queued": {"S": QUEUED},
                ":pending": {"S": PENDING},
                ":digest": {"S": digest},
                ":now": {"S": now},
            },
        )
    except ClientError as exc:
        if _code(exc) != "ConditionalCheckFailedException":
            raise
        current = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        if not current or current["digest"]["S"] != digest or current["state"]["S"] == PENDING:
            raise
        return _reply(202, {"receiptId": receipt_id, "state": current["state"]["S"]})
    return _reply(202, {"receiptId": receipt_id, "state": QUEUED})
