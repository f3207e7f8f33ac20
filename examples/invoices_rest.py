"""Invoice intake behind an API Gateway REST API (Lambda proxy integration, payload format 1.0).

POST /invoices with {"invoiceId": "...", "lines": {...}, "source": "portal"}: store the
invoice with phase ACCEPTED in INVOICES_TABLE (string keys pk, sk), send it to the billing
queue (INVOICES_QUEUE_URL), then set phase FORWARDED. Billing later sets BILLED, then PAID.

Idempotent per invoiceId: a repeat of a forwarded invoice is a 200 that sends nothing, a repeat
of an ACCEPTED one (an earlier attempt stopped half way) is finished, and other lines under the
same id are a 409. The message goes out before the phase changes, so a crash in between leaves
an ACCEPTED invoice that the caller's retry completes.
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

MAX_BODY_BYTES = 64 * 1024
ACCEPTED, FORWARDED = "ACCEPTED", "FORWARDED"


class BadRequest(Exception):
    """The request is not an invoice (the message is safe to show the caller)."""


@functools.cache
def _client(service):
    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))


def _answer(status, body, headers=None):
    headers = {"Content-Type": "application/json", **(headers or {})}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def _error_code(exc):
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def _parse(event):
    raw = event.get("body")
    if not raw:
        raise BadRequest("a JSON body is required")
    try:
        encoded = event.get("isBase64Encoded")
        data = base64.b64decode(raw, validate=True) if encoded else raw.encode()
        body = json.loads(data) if len(data) <= MAX_BODY_BYTES else None
    except ValueError as exc:  # bad base64, bad UTF-8 and bad JSON are all ValueErrors
        raise BadRequest("the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object of at most 64 KiB")
    invoice_id, lines, source = body.get("invoiceId"), body.get("lines"), body.get("source", "")
    if not isinstance(invoice_id, str) or not 0 < len(invoice_id) <= 200:
        raise BadRequest("invoiceId must be a string of 1 to 200 characters")
    if not isinstance(lines, dict):
        raise BadRequest("lines must be an object")
    if not isinstance(source, str):
        raise BadRequest("source must be a string")
    return invoice_id, lines, source


def handler(event, context):
    route = (event.get("httpMethod"), event.get("path")) if isinstance(event, dict) else None
    if route != ("POST", "/invoices"):
        return _answer(404, {"message": "not found"})
    try:
        return _submit(*_parse(event))
    except BadRequest as exc:
        return _answer(400, {"message": str(exc)})
    except (ClientError, BotoCoreError) as exc:
        code = _error_code(exc) or type(exc).__name__
        log.warning("invoice intake: AWS call failed (%s)", code)
        if "AccessDenied" in code:  # a permissions problem: retrying will not help
            return _answer(500, {"message": "internal error"})
        return _answer(503, {"message": "try again later"}, {"Retry-After": "1"})
    except Exception:
        log.exception("invoice intake: unexpected error")
        return _answer(500, {"message": "internal error"})


def _submit(invoice_id, lines, source):
    dynamodb, table = _client("dynamodb"), os.environ["INVOICES_TABLE"]
    key = {"pk": {"S": f"INV#{invoice_id}"}, "sk": {"S": "HEAD"}}
    lines_json = json.dumps(lines, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(f"{source}\n{lines_json}".encode()).hexdigest()
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    item = {
        **key,
        "invoiceId": {"S": invoice_id},
        "lines": {"S": lines_json},
        "linesHash": {"S": digest},
        "source": {"S": source},
        "phase": {"S": ACCEPTED},
        "createdAt": {"S": now},
    }
    try:
        dynamodb.put_item(
            TableName=table,
            Item=item,
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        old = exc.response.get("Item")
        if _error_code(exc) != "ConditionalCheckFailedException" or old is None:
            raise
        if old["linesHash"]["S"] != digest:
            return _answer(409, {"message": "invoiceId already used for other lines"})
        if old["phase"]["S"] != ACCEPTED:
            return _answer(200, {"invoiceId": invoice_id, "phase": old["phase"]["S"]})
        log.info("invoice %s: finishing an earlier attempt", invoice_id)

    message = {"invoice": {"id": invoice_id, "source": source, "lines": lines}}
    _client("sqs").send_message(
        QueueUrl=os.environ["INVOICES_QUEUE_URL"], MessageBody=json.dumps(message)
    )

    try:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #phase = :forwarded, changedAt = :now, forwardedAt = :now",
            ConditionExpression="#phase = :accepted AND linesHash = :hash",
            ExpressionAttributeNames={"#phase": "phase"},
            ExpressionAttributeValues={
                ":forwarded": {"S": FORWARDED},
                ":accepted": {"S": ACCEPTED},
                ":hash": {"S": digest},
                ":now": {"S": now},
            },
        )
    except ClientError as exc:
        if _error_code(exc) != "ConditionalCheckFailedException":
            raise
        # Another attempt forwarded it first, or billing already moved it on: both are fine.
        current = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        if not current or current["linesHash"]["S"] != digest or current["phase"]["S"] == ACCEPTED:
            raise  # gone or changed underneath: 503, and the caller's retry starts over
        return _answer(202, {"invoiceId": invoice_id, "phase": current["phase"]["S"]})
    return _answer(202, {"invoiceId": invoice_id, "phase": FORWARDED})
