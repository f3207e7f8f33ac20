"""Shipment intake behind an API Gateway HTTP API (Lambda integration, payload format 2.0).

POST /v1/shipments with {"shipmentId": "...", "parcel": {...}}: record the shipment RECEIVED
in SHIPMENTS_TABLE (string key "id"), send it to the carrier queue (SHIPMENTS_QUEUE_URL), then
mark it SENT. The carrier moves it on to PICKED and DELIVERED. If the queue does not take the
message, the shipment is deleted again (only while it is still the RECEIVED record this
request stored) and the caller gets a 5xx. Repeats are idempotent: SENT or later is a 200
without a second message, RECEIVED (a crashed attempt) is finished, another parcel is a 409.
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

RECEIVED, SENT = "RECEIVED", "SENT"


@functools.cache
def _client(service):
    config = Config(retries={"mode": "standard", "max_attempts": 3}, read_timeout=5)
    return boto3.client(service, config=config)


def _respond(status, body, headers=None):
    headers = {"content-type": "application/json", **(headers or {})}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def _condition_failed(exc):
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


def _read_body(event):
    """The request body as a dict, or None when it is not a JSON object."""
    body = event.get("body") or ""
    try:
        body = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body
        parsed = json.loads(body) if body else None
    except ValueError:  # bad base64, UTF-8 or JSON
        return None
    return parsed if isinstance(parsed, dict) else None


def handler(event, context):
    http = event.get("requestContext", {}).get("http", {}) if isinstance(event, dict) else {}
    if http.get("method") != "POST" or event.get("rawPath") != "/v1/shipments":
        return _respond(404, {"error": "no such route"})
    if (body := _read_body(event)) is None:
        return _respond(400, {"error": "the body must be a JSON object"})
    shipment_id, parcel = body.get("shipmentId"), body.get("parcel")
    if not isinstance(shipment_id, str) or not 0 < len(shipment_id) <= 200:
        return _respond(400, {"error": "shipmentId must be a string of 1 to 200 characters"})
    if not isinstance(parcel, dict) or len(json.dumps(parcel)) > 65536:
        return _respond(400, {"error": "parcel must be an object of at most 64 KiB as JSON"})
    try:
        return _accept(shipment_id, parcel)
    except (ClientError, BotoCoreError) as exc:
        logger.error("shipment %s failed: %r", shipment_id, exc)
        if isinstance(exc, ClientError) and "AccessDenied" in exc.response["Error"]["Code"]:
            return _respond(500, {"error": "internal error"})
        return _respond(503, {"error": "service unavailable"}, {"retry-after": "2"})
    except Exception:
        logger.exception("shipment %s: unexpected error", shipment_id)
        return _respond(500, {"error": "internal error"})


def _accept(shipment_id, parcel):
    dynamodb, table = _client("dynamodb"), os.environ["SHIPMENTS_TABLE"]
    key = {"id": {"S": f"SHIP-{shipment_id}"}}
    parcel_json = json.dumps(parcel, sort_keys=True)
    parcel_hash = hashlib.sha256(parcel_json.encode()).hexdigest()
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **key,
                "shipmentId": {"S": shipment_id},
                "parcel": {"S": parcel_json},
                "parcelHash": {"S": parcel_hash},
                "state": {"S": RECEIVED},
                "receivedAt": {"N": str(int(time.time()))},
            },
            ConditionExpression="attribute_not_exists(id)",
        )
    except ClientError as exc:
        if not _condition_failed(exc):
            raise
        existing = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        if existing is None:
            raise  # deleted since: a retry starts afresh
        if existing["parcelHash"]["S"] != parcel_hash:
            return _respond(409, {"error": "shipmentId already used for another parcel"})
        if existing["state"]["S"] != RECEIVED:
            return _respond(200, {"shipmentId": shipment_id, "state": existing["state"]["S"]})

    try:
        _client("sqs").send_message(
            QueueUrl=os.environ["SHIPMENTS_QUEUE_URL"],
            MessageBody=json.dumps({"shipmentId": shipment_id, "parcel": parcel}),
        )
    except (ClientError, BotoCoreError) as send_error:
        try:  # undo our record, unless another attempt has moved it on meanwhile
            dynamodb.delete_item(TableName=table, Key=key, **_if_ours(parcel_hash))
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            return _sent_by_someone_else(dynamodb, table, key, shipment_id, parcel_hash)
        raise send_error  # the record is gone again: answer as for any AWS failure

    sent = {":sent": {"S": SENT}, ":now": {"N": str(int(time.time()))}}
    try:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #state = :sent, sentAt = :now",
            **_if_ours(parcel_hash, sent),
        )
    except ClientError as exc:
        if not _condition_failed(exc):
            raise
        return _sent_by_someone_else(dynamodb, table, key, shipment_id, parcel_hash)
    return _respond(201, {"shipmentId": shipment_id, "state": SENT})


def _if_ours(parcel_hash, values=None):
    """Condition arguments: write only to the RECEIVED record that this request stored."""
    values = {":received": {"S": RECEIVED}, ":hash": {"S": parcel_hash}, **(values or {})}
    return {
        "ConditionExpression": "#state = :received AND parcelHash = :hash",
        "ExpressionAttributeNames": {"#state": "state"},
        "ExpressionAttributeValues": values,
    }


def _sent_by_someone_else(dynamodb, table, key, shipment_id, parcel_hash):
    """Our conditional write lost: fine if the shipment is now SENT or later, else a 503."""
    item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    if item and item["parcelHash"]["S"] == parcel_hash and item["state"]["S"] != RECEIVED:
        return _respond(201, {"shipmentId": shipment_id, "state": item["state"]["S"]})
    return _respond(503, {"error": "service unavailable"}, {"retry-after": "2"})
