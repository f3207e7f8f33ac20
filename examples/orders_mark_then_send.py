"""Order intake behind an API Gateway REST API (proxy integration, payload format 1.0).

POST /orders with {"orderId": "...", "items": {...}}: store STAGED in ORDERS_TABLE (string key
orderKey), set ENQUEUED, send to the fulfilment queue (ORDERS_QUEUE_URL). Fulfilment moves
orders on to PICKING and SHIPPED.

BUGGY ON PURPOSE (a queuecheck example): it follows the test plan's wording literally, "mark
the order ENQUEUED, then send it, and revert to STAGED if the send fails". An invocation that
dies between the mark and the send (a Lambda timeout) leaves an ENQUEUED order whose message
was never sent; retries see ENQUEUED and answer "duplicate", so it is never sent at all.
Everything else is done right.
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

STAGED, ENQUEUED, LATER = "STAGED", "ENQUEUED", ("PICKING", "SHIPPED")
AWS_ERRORS = (ClientError, BotoCoreError)


@functools.cache
def _client(service):
    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))


def _reply(status, body, headers=None):
    headers = {"Content-Type": "application/json", **(headers or {})}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def _code(exc):
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def _order_from(event):
    """(orderId, items) from the request body, or None when the body is not a valid order."""
    try:
        raw = event.get("body") or ""
        if event.get("isBase64Encoded"):
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        body = json.loads(raw) if raw else None
    except ValueError:
        return None
    body = body if isinstance(body, dict) else {}
    order_id, items = body.get("orderId"), body.get("items")
    valid_id = isinstance(order_id, str) and 0 < len(order_id) <= 200
    valid_items = isinstance(items, dict) and len(json.dumps(items)) <= 65536
    return (order_id, items) if valid_id and valid_items else None


def handler(event, context):
    route = (event.get("httpMethod"), event.get("path")) if isinstance(event, dict) else None
    if route != ("POST", "/orders"):
        return _reply(404, {"message": "not found"})
    order = _order_from(event)
    if order is None:
        return _reply(400, {"message": "expected a JSON object with orderId and items"})
    try:
        return _place(*order)
    except AWS_ERRORS as exc:
        log.error("order intake failed: %s", _code(exc) or type(exc).__name__)
        if "AccessDenied" in _code(exc):
            return _reply(500, {"message": "internal error"})
        return _reply(503, {"message": "temporarily unavailable"}, {"Retry-After": "1"})
    except Exception:
        log.exception("order intake: unexpected error")
        return _reply(500, {"message": "internal error"})


def _set_status(key, new, expected):
    _client("dynamodb").update_item(
        TableName=os.environ["ORDERS_TABLE"],
        Key=key,
        UpdateExpression="SET #status = :new, updatedAt = :now",
        ConditionExpression="#status = :expected",
        ExpressionAttributeNames={"#status": "orderStatus"},
        ExpressionAttributeValues={
            ":new": {"S": new},
            ":expected": {"S": expected},
            ":now": {"S": datetime.now(UTC).isoformat()},
        },
    )


def _place(order_id, items):
    dynamodb, table = _client("dynamodb"), os.environ["ORDERS_TABLE"]
    key = {"orderKey": {"S": f"ORDER#{order_id}"}}
    items_json = json.dumps(items, sort_keys=True)
    items_hash = hashlib.sha256(items_json.encode()).hexdigest()
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **key,
                "orderId": {"S": order_id},
                "items": {"S": items_json},
                "itemsHash": {"S": items_hash},
                "orderStatus": {"S": STAGED},
                "createdAt": {"S": datetime.now(UTC).isoformat()},
            },
            ConditionExpression="attribute_not_exists(orderKey)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if _code(exc) != "ConditionalCheckFailedException" or "Item" not in exc.response:
            raise
        old = exc.response["Item"]
        if old["itemsHash"]["S"] != items_hash:
            return _reply(409, {"message": "orderId already used for other items"})
        if old["orderStatus"]["S"] != STAGED:
            return _reply(200, {"orderId": order_id, "status": old["orderStatus"]["S"]})

    # BUG: the order is marked ENQUEUED before the message exists. A crash before the
    # send_message below completes leaves ENQUEUED with nothing in the queue.
    try:
        _set_status(key, ENQUEUED, STAGED)
    except ClientError as exc:
        if _code(exc) != "ConditionalCheckFailedException":
            raise
        current = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        status = current["orderStatus"]["S"] if current else None
        if status not in (ENQUEUED, *LATER):
            raise
        if status in LATER:  # fulfilment has the message already
            return _reply(202, {"orderId": order_id, "status": status})
        # ENQUEUED by our own lost write or by another attempt: send to be sure.

    message = {"type": "order.placed", "detail": {"orderId": order_id, "items": items}}
    try:
        _client("sqs").send_message(
            QueueUrl=os.environ["ORDERS_QUEUE_URL"], MessageBody=json.dumps(message)
        )
    except AWS_ERRORS:
        try:
            _set_status(key, STAGED, ENQUEUED)  # revert, so that a retry sends it
        except AWS_ERRORS as revert_error:
            log.error("order %s: revert to STAGED failed: %s", order_id, _code(revert_error))
        raise
    return _reply(202, {"orderId": order_id, "status": ENQUEUED})
