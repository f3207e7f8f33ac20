"""Booking intake behind an API Gateway HTTP API (payload format 2.0).

BUGGY ON PURPOSE (a queuecheck example): the handler checks whether a booking exists with a
GetItem and then writes it with an unconditional PutItem. Called one at a time it behaves;
called twice at once for one bookingId (a client's retry racing its original, two clients
that picked the same id), both checks find nothing, both writes succeed, the second
overwrites the first, and both callers are told their booking was taken: one of them holds a
confirmation for a booking that no longer exists, and its message went out anyway.
Everything else is done right.

POST /bookings with {"bookingId": "...", "booking": {...}}: store HELD, send to the
fulfilment queue, set CONFIRMED; fulfilment moves bookings on to FULFILLED.

Environment: BOOKINGS_TABLE (string keys bk, kind) and BOOKINGS_QUEUE_URL.
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

HELD, CONFIRMED = "HELD", "CONFIRMED"


class BadRequest(Exception):
    """The request is not a booking; the message is safe to return."""


@functools.cache
def _client(service):
    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))


def _respond(status, body, headers=None):
    headers = {"content-type": "application/json", **(headers or {})}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def _code(exc):
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def _booking(event):
    raw = event.get("body") or ""
    try:
        if event.get("isBase64Encoded"):
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        body = json.loads(raw) if raw else None
    except ValueError as exc:
        raise BadRequest("the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    booking_id, booking = body.get("bookingId"), body.get("booking")
    if not isinstance(booking_id, str) or not 0 < len(booking_id) <= 128:
        raise BadRequest("bookingId must be a string of 1 to 128 characters")
    if not isinstance(booking, dict):
        raise BadRequest("booking must be an object")
    return booking_id, booking


def handler(event, context):
    http = (event.get("requestContext") or {}).get("http") or {} if isinstance(event, dict) else {}
    if (http.get("method"), event.get("rawPath")) != ("POST", "/bookings"):
        return _respond(404, {"message": "not found"})
    try:
        return _book(*_booking(event))
    except BadRequest as exc:
        return _respond(400, {"message": str(exc)})
    except (ClientError, BotoCoreError) as exc:
        code = _code(exc) or type(exc).__name__
        log.warning("booking intake: AWS call failed (%s)", code)
        if "AccessDenied" in code:
            return _respond(500, {"message": "internal error"})
        return _respond(503, {"message": "try again later"}, {"retry-after": "1"})


def _book(booking_id, booking):
    dynamodb, table = _client("dynamodb"), os.environ["BOOKINGS_TABLE"]
    key = {"bk": {"S": f"BOOKING#{booking_id}"}, "kind": {"S": "booking"}}
    booking_json = json.dumps(booking, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(booking_json.encode()).hexdigest()
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    # BUG: check, then act. Between this read and the PutItem below another invocation may
    # write the same booking, and the unconditional PutItem overwrites it.
    old = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    if old is not None:
        if old["digest"]["S"] != digest:
            return _respond(409, {"message": "bookingId already used for another booking"})
        if old["bookingState"]["S"] != HELD:
            return _respond(200, {"bookingId": booking_id, "state": old["bookingState"]["S"]})
    else:
        dynamodb.put_item(
            TableName=table,
            Item={
                **key,
                "bookingId": {"S": booking_id},
                "booking": {"S": booking_json},
                "digest": {"S": digest},
                "bookingState": {"S": HELD},
                "heldAt": {"S": now},
            },
        )
    _client("sqs").send_message(
        QueueUrl=os.environ["BOOKINGS_QUEUE_URL"],
        MessageBody=json.dumps({"booking": {"id": booking_id, **booking}}),
    )
    try:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET bookingState = :confirmed, confirmedAt = :now",
            ConditionExpression="bookingState = :held AND digest = :digest",
            ExpressionAttributeValues={
                ":confirmed": {"S": CONFIRMED},
                ":held": {"S": HELD},
                ":digest": {"S": digest},
                ":now": {"S": now},
            },
        )
    except ClientError as exc:
        if _code(exc) != "ConditionalCheckFailedException":
            raise
        current = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        state = current["bookingState"]["S"] if current else HELD
        if not current or current["digest"]["S"] != digest or state == HELD:
            raise
        return _respond(201, {"bookingId": booking_id, "state": state})
    return _respond(201, {"bookingId": booking_id, "state": CONFIRMED})
