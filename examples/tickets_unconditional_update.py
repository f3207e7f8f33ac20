"""Support ticket intake behind an API Gateway HTTP API (payload format 2.0).

BUGGY ON PURPOSE (a queuecheck example): the final status update (OPEN -> ROUTED) has no
ConditionExpression. If the support desk already picked the ticket up from the queue and set
IN_PROGRESS (or RESOLVED) before that update lands, the update drags it back to ROUTED and
the desk's progress is lost. Everything else is done right.

POST /tickets with {"ticketId": "...", "details": {...}}: store the ticket OPEN, send it to
the routing queue, set ROUTED. The desk moves tickets on to IN_PROGRESS, RESOLVED, CLOSED.
Repeats are idempotent (ROUTED or later: 200, nothing sent; OPEN: finished; other details: 409).

Environment: TICKETS_TABLE (string key ticket_id) and TICKETS_QUEUE_URL.
"""

import base64
import functools
import hashlib
import json
import logging
import os
import time

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

OPEN, ROUTED = "OPEN", "ROUTED"


@functools.cache
def _client(service):
    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))


def _respond(status, body, headers=None):
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps(body),
    }


def _read_body(event):
    """The request body as a dict, or None when it is not a JSON object."""
    body = event.get("body") or ""
    try:
        if event.get("isBase64Encoded"):
            body = base64.b64decode(body, validate=True).decode("utf-8")
        parsed = json.loads(body) if 0 < len(body) <= 65536 else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def handler(event, context):
    http = event.get("requestContext", {}).get("http", {}) if isinstance(event, dict) else {}
    if http.get("method") != "POST" or event.get("rawPath") != "/tickets":
        return _respond(404, {"error": "no such route"})
    body = _read_body(event)
    if body is None:
        return _respond(400, {"error": "the body must be a JSON object (at most 64 KiB)"})
    ticket_id, details = body.get("ticketId"), body.get("details")
    if not isinstance(ticket_id, str) or not 0 < len(ticket_id) <= 200:
        return _respond(400, {"error": "ticketId must be a string of 1 to 200 characters"})
    if not isinstance(details, dict):
        return _respond(400, {"error": "details must be an object"})
    try:
        return _open_ticket(ticket_id, details)
    except (ClientError, BotoCoreError) as exc:
        logger.error("ticket %s failed: %r", ticket_id, exc)
        denied = isinstance(exc, ClientError) and "AccessDenied" in exc.response["Error"]["Code"]
        if denied:
            return _respond(500, {"error": "internal error"})
        return _respond(503, {"error": "service unavailable"}, {"retry-after": "2"})
    except Exception:
        logger.exception("ticket %s: unexpected error", ticket_id)
        return _respond(500, {"error": "internal error"})


def _open_ticket(ticket_id, details):
    dynamodb, table = _client("dynamodb"), os.environ["TICKETS_TABLE"]
    key = {"ticket_id": {"S": ticket_id}}
    details_json = json.dumps(details, sort_keys=True)
    details_hash = hashlib.sha256(details_json.encode()).hexdigest()
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **key,
                "details": {"S": details_json},
                "detailsHash": {"S": details_hash},
                "ticketStatus": {"S": OPEN},
                "openedAt": {"N": str(int(time.time()))},
            },
            ConditionExpression="attribute_not_exists(ticket_id)",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        existing = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        if existing is None:
            raise
        if existing["detailsHash"]["S"] != details_hash:
            return _respond(409, {"error": "ticketId already used for other details"})
        if existing["ticketStatus"]["S"] != OPEN:
            status = existing["ticketStatus"]["S"]
            return _respond(200, {"ticketId": ticket_id, "status": status})

    _client("sqs").send_message(
        QueueUrl=os.environ["TICKETS_QUEUE_URL"],
        MessageBody=json.dumps({"ticket_ref": ticket_id, "details": details}),
    )

    # BUG: no ConditionExpression ("ticketStatus = OPEN"): this overwrites whatever status
    # the desk set after reading the message, moving the ticket backwards.
    dynamodb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET ticketStatus = :routed, routedAt = :now",
        ExpressionAttributeValues={
            ":routed": {"S": ROUTED},
            ":now": {"N": str(int(time.time()))},
        },
    )
    return _respond(202, {"ticketId": ticket_id, "status": ROUTED})
