"""Webhook intake behind an API Gateway REST API (proxy integration, payload format 1.0).

A partner posts its events to POST /webhooks with {"eventId": "...", "payload": {...}} and an
``x-api-key`` header holding the key the partner was given (WEBHOOKS_API_KEY). A request
without the right key is a 401. Header names are case-insensitive, and a REST API hands them
over as the client spelled them (``X-Api-Key``, ``x-api-key``, ``X-API-KEY``), so the key is
looked up whatever its spelling, in ``headers`` or ``multiValueHeaders``, and compared in
constant time.

An event is stored as RECEIVED in WEBHOOKS_TABLE (string key pk), sent to the processing queue
(WEBHOOKS_QUEUE_URL), then set to QUEUED; the processors set PROCESSED. Partners retry until
they get a 2xx, so repeats are idempotent: QUEUED or later is a 200 that sends nothing,
RECEIVED (an attempt that stopped half way) is finished, another payload under the same
eventId is a 409. When SQS refuses the message, the event stays RECEIVED and the partner gets
a 503: its retry finishes it.
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
    return os.environ["WEBHOOKS_API_KEY"].encode()


def _reply(status, body, headers=None):
    headers = {"Content-Type": "application/json", **(headers or {})}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def _code(exc):
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def header(event, name):
    """A request header's value, whatever the case of its name (None: not sent)."""
    for values in (event.get("headers"), event.get("multiValueHeaders")):
        for key, value in (values or {}).items():
            if key.lower() == name:
                return value[0] if isinstance(value, list) and value else value
    return None


def _authorised(event):
    given = header(event, "x-api-key")
    return isinstance(given, str) and hmac.compare_digest(given.encode(), _api_key())


def _webhook(event):
    raw = event.get("body") or ""
    try:
        if event.get("isBase64Encoded"):
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        body = json.loads(raw) if raw else None
    except ValueError as exc:
        raise Refused(400, "the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise Refused(400, "the body must be a JSON object")
    event_id, payload = body.get("eventId"), body.get("payload")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 128:
        raise Refused(400, "eventId must be a string of 1 to 128 characters")
    if not isinstance(payload, dict):
        raise Refused(400, "payload must be an object")
    return event_id, payload


def handler(event, context):
    if not isinstance(event, dict) or (event.get("httpMethod"), event.get("path")) != (
        "POST",
        "/webhooks",
    ):
        return _reply(404, {"message": "not found"})
    if not _authorised(event):
        return _reply(401, {"message": "a valid x-api-key header is required"})
    try:
        return _take(*_webhook(event))
    except Refused as exc:
        return _reply(exc.status, {"message": str(exc)})
    except (ClientError, BotoCoreError) as exc:
        code = _code(exc) or type(exc).__name__
        log.warning("webhook intake: AWS call failed (%s)", code)
        if "AccessDenied" in code:
            return _reply(500, {"message": "internal error"})
        return _reply(503, {"message": "try again later"}, {"Retry-After": "1"})


def _take(event_id, payload):
    dynamodb, table = _client("dynamodb"), os.environ["WEBHOOKS_TABLE"]
    key = {"pk": {"S": f"WH#{event_id}"}}
    payload_json = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(payload_json.encode()).hexdigest()
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **key,
                "payload": {"S": payload_json},
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
            return _reply(409, {"message": "eventId already used for another payload"})
        if old["status"]["S"] != RECEIVED:
            return _reply(200, {"eventId": event_id, "status": old["status"]["S"]})
    _client("sqs").send_message(
        QueueUrl=os.environ["WEBHOOKS_QUEUE_URL"],
        MessageBody=json.dumps({"webhook": {"eventId": event_id, "payload": payload}}),
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
        return _reply(202, {"eventId": event_id, "status": old["status"]["S"]})
    return _reply(202, {"eventId": event_id, "status": QUEUED})
