"""Money transfer intake behind an API Gateway REST API (proxy integration, payload 1.0).

POST /transfers with {"transferId": "...", "transfer": {...}}: take the transfer's lock by
storing it as IN_PROGRESS in TRANSFERS_TABLE (string key pk), send it to the payments queue
(TRANSFERS_QUEUE_URL), then set SUBMITTED. The payments service later sets SETTLED. When SQS
refuses the message the lock is released (the record deleted again) and the caller gets 503.

BUGGY ON PURPOSE (a queuecheck example): an IN_PROGRESS record is taken for "another invocation
is working on this transfer right now", and the request is answered 409 "try again later", as
an idempotency lock would be. The lock never expires: when the invocation that took it dies
before it sends (a Lambda timeout, a PutItem whose response was lost and whose retry found the
lock its own first attempt took), or sends but cannot set SUBMITTED, nothing ever releases it,
and every retry of the transfer is told to try again later, for ever. Everything else
(conditional writes, 409 for other content, 200 for a repeat of a submitted transfer) is right.
"""

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

IN_PROGRESS, SUBMITTED = "IN_PROGRESS", "SUBMITTED"
AWS_ERRORS = (ClientError, BotoCoreError)


@functools.cache
def _client(service):
    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))


def _reply(status, body, headers=None):
    headers = {"Content-Type": "application/json", **(headers or {})}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def _code(exc):
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def _transfer_from(event):
    """(transferId, transfer) from the request body, or None when it is not a transfer."""
    try:
        body = json.loads(event.get("body") or "null")
    except ValueError:
        return None
    body = body if isinstance(body, dict) else {}
    transfer_id, transfer = body.get("transferId"), body.get("transfer")
    valid_id = isinstance(transfer_id, str) and 0 < len(transfer_id) <= 200
    return (transfer_id, transfer) if valid_id and isinstance(transfer, dict) else None


def handler(event, context):
    route = (event.get("httpMethod"), event.get("path")) if isinstance(event, dict) else None
    if route != ("POST", "/transfers"):
        return _reply(404, {"message": "not found"})
    transfer = _transfer_from(event)
    if transfer is None:
        return _reply(400, {"message": "expected a JSON object with transferId and transfer"})
    try:
        return _submit(*transfer)
    except AWS_ERRORS as exc:
        log.error("transfer intake failed: %s", _code(exc) or type(exc).__name__)
        if "AccessDenied" in _code(exc):
            return _reply(500, {"message": "internal error"})
        return _reply(503, {"message": "temporarily unavailable"}, {"Retry-After": "1"})
    except Exception:
        log.exception("transfer intake: unexpected error")
        return _reply(500, {"message": "internal error"})


def _submit(transfer_id, transfer):
    dynamodb, table = _client("dynamodb"), os.environ["TRANSFERS_TABLE"]
    key = {"pk": {"S": f"TRF#{transfer_id}"}}
    transfer_json = json.dumps(transfer, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(transfer_json.encode()).hexdigest()
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **key,
                "transferId": {"S": transfer_id},
                "transfer": {"S": transfer_json},
                "transferHash": {"S": digest},
                "state": {"S": IN_PROGRESS},
                "lockedAt": {"S": now},
            },
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        old = exc.response.get("Item")
        if _code(exc) != "ConditionalCheckFailedException" or old is None:
            raise
        if old["transferHash"]["S"] != digest:
            return _reply(409, {"message": "transferId already used for another transfer"})
        if old["state"]["S"] == IN_PROGRESS:
            # BUG: the lock has no expiry. Whoever took it may be dead; nothing releases it.
            return _reply(
                409,
                {"message": "this transfer is being processed, try again later"},
                {"Retry-After": "5"},
            )
        return _reply(200, {"transferId": transfer_id, "state": old["state"]["S"]})

    message = {"transfer": {"id": transfer_id, "details": transfer}}
    try:
        _client("sqs").send_message(
            QueueUrl=os.environ["TRANSFERS_QUEUE_URL"], MessageBody=json.dumps(message)
        )
    except AWS_ERRORS:
        _release(key, digest)
        raise

    try:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #state = :submitted, submittedAt = :now",
            ConditionExpression="#state = :in_progress AND transferHash = :hash",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":submitted": {"S": SUBMITTED},
                ":in_progress": {"S": IN_PROGRESS},
                ":hash": {"S": digest},
                ":now": {"S": now},
            },
        )
    except ClientError as exc:
        if _code(exc) != "ConditionalCheckFailedException":
            raise
        # The payments service already moved it on: it has the message.
        current = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        if (
            not current
            or current["transferHash"]["S"] != digest
            or current["state"]["S"] == IN_PROGRESS
        ):
            raise
        return _reply(202, {"transferId": transfer_id, "state": current["state"]["S"]})
    return _reply(202, {"transferId": transfer_id, "state": SUBMITTED})


def _release(key, digest):
    """Release the lock after a failed send, so that the caller's retry can take it again."""
    try:
        _client("dynamodb").delete_item(
            TableName=os.environ["TRANSFERS_TABLE"],
            Key=key,
            ConditionExpression="#state = :in_progress AND transferHash = :hash",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":in_progress": {"S": IN_PROGRESS},
                ":hash": {"S": digest},
            },
        )
    except AWS_ERRORS as exc:
        log.error("transfer lock not released: %s", _code(exc) or type(exc).__name__)
