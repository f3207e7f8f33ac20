"""Payment intake behind an API Gateway REST API (proxy integration, payload format 1.0).

BUGGY ON PURPOSE (a queuecheck example): when SQS refuses the message (throttled, down, access
denied), the error is logged and ignored. The payment is then marked SUBMITTED and the caller
gets a 202, so nobody retries, and the payment processor never hears of it. Everything else
is done right.

POST /payments with {"paymentRef": "...", "instruction": {...}}: store RECORDED, send to the
payments queue, set SUBMITTED. The processor moves payments on to SETTLED.
Repeats are idempotent (SUBMITTED or later: 200, nothing sent; RECORDED: finished; another
instruction under the same paymentRef: 409).

Environment: PAYMENTS_TABLE (string keys paymentPk, paymentSk) and PAYMENTS_QUEUE_URL.
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

RECORDED, SUBMITTED = "RECORDED", "SUBMITTED"
AWS_ERRORS = (ClientError, BotoCoreError)


class Invalid(Exception):
    """The request is not a payment; the text is safe to return."""


@functools.cache
def _client(service):
    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))


def _response(status, body, headers=None):
    headers = {"Content-Type": "application/json", **(headers or {})}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def _code(exc):
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def _payment(event):
    raw = event.get("body") or ""
    try:
        if event.get("isBase64Encoded"):
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        body = json.loads(raw) if raw else None
    except ValueError as exc:
        raise Invalid("body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise Invalid("body must be a JSON object")
    ref, instruction = body.get("paymentRef"), body.get("instruction")
    if not isinstance(ref, str) or not 0 < len(ref) <= 200:
        raise Invalid("paymentRef must be a string of 1 to 200 characters")
    if not isinstance(instruction, dict) or len(json.dumps(instruction)) > 65536:
        raise Invalid("instruction must be an object of at most 64 KiB as JSON")
    return ref, instruction


def handler(event, context):
    if not isinstance(event, dict) or event.get("httpMethod") != "POST":
        return _response(405, {"message": "method not allowed"})
    if event.get("path") != "/payments":
        return _response(404, {"message": "not found"})
    try:
        return _take(*_payment(event))
    except Invalid as exc:
        return _response(400, {"message": str(exc)})
    except AWS_ERRORS as exc:
        log.error("payment intake failed: %s", _code(exc) or type(exc).__name__)
        if "AccessDenied" in _code(exc):
            return _response(500, {"message": "internal error"})
        return _response(503, {"message": "please retry"}, {"Retry-After": "1"})
    except Exception:
        log.exception("payment intake: unexpected error")
        return _response(500, {"message": "internal error"})


def _take(ref, instruction):
    dynamodb, table = _client("dynamodb"), os.environ["PAYMENTS_TABLE"]
    key = {"paymentPk": {"S": f"PAY#{ref}"}, "paymentSk": {"S": "INTAKE"}}
    instruction_json = json.dumps(instruction, sort_keys=True)
    fingerprint = hashlib.sha256(instruction_json.encode()).hexdigest()
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **key,
                "paymentRef": {"S": ref},
                "instruction": {"S": instruction_json},
                "fingerprint": {"S": fingerprint},
                "payStatus": {"S": RECORDED},
                "recordedAt": {"S": datetime.now(UTC).isoformat()},
            },
            ConditionExpression="attribute_not_exists(paymentPk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if _code(exc) != "ConditionalCheckFailedException" or "Item" not in exc.response:
            raise
        old = exc.response["Item"]
        if old["fingerprint"]["S"] != fingerprint:
            return _response(409, {"message": "paymentRef already used for another instruction"})
        if old["payStatus"]["S"] != RECORDED:
            return _response(200, {"paymentRef": ref, "status": old["payStatus"]["S"]})

    message = {"payment": {"ref": ref, "instruction": instruction}}
    try:
        _client("sqs").send_message(
            QueueUrl=os.environ["PAYMENTS_QUEUE_URL"], MessageBody=json.dumps(message)
        )
    except AWS_ERRORS as exc:
        # BUG: the failed send is only logged. The code below then marks the payment
        # SUBMITTED and answers 202, although no message was sent.
        log.warning("payment %s: could not send to the queue: %s", ref, _code(exc))

    try:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET payStatus = :submitted, submittedAt = :now",
            ConditionExpression="payStatus = :recorded AND fingerprint = :fingerprint",
            ExpressionAttributeValues={
                ":submitted": {"S": SUBMITTED},
                ":recorded": {"S": RECORDED},
                ":fingerprint": {"S": fingerprint},
                ":now": {"S": datetime.now(UTC).isoformat()},
            },
        )
    except ClientError as exc:
        if _code(exc) != "ConditionalCheckFailedException":
            raise
        # Another attempt submitted it first, or the processor already settled it.
        current = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        if not current or current["fingerprint"]["S"] != fingerprint:
            raise
        if current["payStatus"]["S"] == RECORDED:
            raise
        return _response(202, {"paymentRef": ref, "status": current["payStatus"]["S"]})
    return _response(202, {"paymentRef": ref, "status": SUBMITTED})
