"""Callback intake behind an API Gateway REST API (proxy integration, payload format 1.0).

BUGGY ON PURPOSE (a queuecheck example): the API key is read as ``headers["x-api-key"]``, in
that one spelling. It works in every test the team ran (curl with ``-H "x-api-key: ..."``, and
an HTTP API, which lower-cases header names), but a REST API hands header names over as the
client spelled them: a partner whose client sends ``X-Api-Key`` or ``X-API-KEY`` (most HTTP
libraries' own spelling) gets a 401 for every callback, with the right key. Everything else is
done right.

A partner posts to POST /callbacks with {"callbackId": "...", "data": {...}} and its key
(CALLBACKS_API_KEY). A callback is stored as RECEIVED in CALLBACKS_TABLE (string key pk), sent
to the processing queue (CALLBACKS_QUEUE_URL), then set to QUEUED; the processors set
PROCESSED. Repeats are idempotent: QUEUED or later is a 200 that sends nothing, RECEIVED is
finished, other data under the same callbackId is a 409. When SQS refuses the message, the
callback stays RECEIVED and the partner gets a 503.
"""

import base64
import functools
import hashlib
import hmac
import json
import logging
import os
from datetime import UTC, datetime

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)

RECEIVED, QUEUED = "RECEIVED", "QUEUED"


class Refused(Exception):
    """The request cannot be taken; ``status`` and the message are safe to return."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


@functools.cache
def _client(service):
    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))


@functools.cache
def _api_key():
    return os.environ["CALLBACKS_API_KEY"].encode()


def _reply(status, body, headers=None):
    headers = {"Content-Type": "application/json", **(headers or {})}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def _code(exc):
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def _authorised(event):
    # BUG: a dict lookup by one spelling of a case-insensitive header name.
    given = (event.get("headers") or {}).get("x-api-key")
    return isinstance(given, str) and hmac.compare_digest(given.encode(), _api_key())


def _callback(event):
    raw = event.get("body") or ""
    try:
        if event.get("isBase64Encoded"):
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        body = json.loads(raw) if raw else None
    except ValueError as exc:
        raise Refused(400, "the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise Refused(400, "the body must be a JSON object")
    callback_id, data = body.get("callbackId"), body.get("data")
    if not isinstance(callback_id, str) or not 0 < len(callback_id) <= 128:
        raise Refused(400, "callbackId must be a string of 1 to 128 characters")
    if not isinstance(data, dict):
        raise Refused(400, "data must be an object")
    return callback_id, data


def handler(event, context):
    if not isinstance(event, dict) or (event.get("httpMethod"), event.get("path")) != (
        "POST",
        "/callbacks",
    ):
        return _reply(404, {"message": "not found"})
    if not _authorised(event):
        return _reply(401, {"message": "a valid x-api-key header is required"})
    try:
        return _take(*_callback(event))
    except Refused as exc:
        return _reply(exc.status, {"message": str(exc)})
    except (ClientError, BotoCoreError) as exc:
        code = _code(exc) or type(exc).__name__
        log.warning("callback intake: AWS call failed (%s)", code)
        if "AccessDenied" in code:
            return _reply(500, {"message": "internal error"})
        return _reply(503, {"message": "try again later"}, {"Retry-After": "1"})


def _take(callback_id, data):
    dynamodb, table = _client("dynamodb"), os.environ["CALLBACKS_TABLE"]
    key = {"pk": {"S": f"CB#{callback_id}"}}
    data_json = json.dumps(data, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(data_json.encode()).hexdigest()
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **key,
                "data": {"S": data_json},
                "digest": {"S": digest},
                "status": {"S": RECEIVED},
                "receivedAt": {"S": now},
            },
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        old = exc.response.get("Item")
        if _code(exc) != "ConditionalCheckFailedException" or old is None:
            raise
        if old["digest"]["S"] != digest:
            return _reply(409, {"message": "callbackId already used for other data"})
        if old["status"]["S"] != RECEIVED:
            return _reply(200, {"callbackId": callback_id, "status": old["status"]["S"]})
    _client("sqs").send_message(
        QueueUrl=os.environ["CALLBACKS_QUEUE_URL"],
        MessageBody=json.dumps({"callback": {"callbackId": callback_id, "data": data}}),
    )
    try:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #s = :queued, queuedAt = :now",
            ConditionExpression="#s = :received AND digest = :digest",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":queued": {"S": QUEUED},
                ":received": {"S": RECEIVED},
                ":digest": {"S": digest},
                ":now": {"S": now},
            },
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        old = exc.response.get("Item")
        if _code(exc) != "ConditionalCheckFailedException" or not old:
            raise
        if old["digest"]["S"] != digest or old["status"]["S"] == RECEIVED:
            raise
        return _reply(202, {"callbackId": callback_id, "status": old["status"]["S"]})
    return _reply(202, {"callbackId": callback_id, "status": QUEUED})
