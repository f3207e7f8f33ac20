"""Delivery stage triggered by SQS (an event source mapping with ReportBatchItemFailures).

The second stage of a pipeline: the order service puts {"deliveryId": "...", "parcel": {...}}
on the incoming queue; Lambda hands this handler batches of up to 10 of those messages. Each
delivery is stored as STORED in DELIVERIES_TABLE (string keys pk, sk), forwarded to this
stage's own queue (DELIVERIES_QUEUE_URL, read by the couriers), then set to FORWARDED; the
couriers move it on to OUT and DELIVERED.

Each message is handled on its own, and each one that did not get through is named in the
answer's batchItemFailures, so SQS delivers it again (and, after the queue's
maxReceiveCount, moves it to the dead-letter queue); the others are deleted. A message that is
not a delivery, or that names a stored delivery with another parcel, can never succeed: it is
reported too, and ends in the dead-letter queue for a person to look at. SQS delivers at least
once, so the same message may come twice, even in one batch: a delivery already FORWARDED is
not sent again, and a STORED one (an earlier attempt stopped half way) is finished.
"""

import functools
import hashlib
import json
import logging
import os

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

STORED, FORWARDED = "STORED", "FORWARDED"


class Unusable(Exception):
    """This message can never be handled: it goes to the dead-letter queue."""


@functools.cache
def _client(service):
    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))


def _code(exc):
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def handler(event, context):
    failures = []
    for record in event["Records"]:
        message_id = record["messageId"]
        try:
            _handle(*_delivery(record["body"]))
        except Unusable as exc:
            logger.warning("message %s: %s", message_id, exc)
            failures.append({"itemIdentifier": message_id})
        except (ClientError, BotoCoreError) as exc:
            logger.warning("message %s: AWS call failed (%s)", message_id, _code(exc) or exc)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def _delivery(body):
    try:
        message = json.loads(body)
    except ValueError:
        raise Unusable("the body is not JSON") from None
    if not isinstance(message, dict):
        raise Unusable("the body is not a JSON object")
    delivery_id, parcel = message.get("deliveryId"), message.get("parcel")
    if not isinstance(delivery_id, str) or not 0 < len(delivery_id) <= 200:
        raise Unusable("deliveryId must be a string of 1 to 200 characters")
    if not isinstance(parcel, dict):
        raise Unusable("parcel must be an object")
    return delivery_id, parcel


def _handle(delivery_id, parcel):
    dynamodb, table = _client("dynamodb"), os.environ["DELIVERIES_TABLE"]
    key = {"pk": {"S": f"DLV#{delivery_id}"}, "sk": {"S": "DELIVERY"}}
    parcel_json = json.dumps(parcel, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(parcel_json.encode()).hexdigest()
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **key,
                "parcel": {"S": parcel_json},
                "digest": {"S": digest},
                "stage": {"S": STORED},
            },
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        old = exc.response.get("Item")
        if _code(exc) != "ConditionalCheckFailedException" or old is None:
            raise
        if old["digest"]["S"] != digest:
            raise Unusable(f"delivery {delivery_id} is stored with another parcel") from None
        if old["stage"]["S"] != STORED:
            return  # a redelivery of a message already forwarded
    _client("sqs").send_message(
        QueueUrl=os.environ["DELIVERIES_QUEUE_URL"],
        MessageBody=json.dumps({"delivery": {"id": delivery_id, "parcel": parcel}}),
    )
    try:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET stage = :forwarded",
            ConditionExpression="stage = :stored AND digest = :digest",
            ExpressionAttributeValues={
                ":forwarded": {"S": FORWARDED},
                ":stored": {"S": STORED},
                ":digest": {"S": digest},
            },
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        old = exc.response.get("Item")
        if _code(exc) != "ConditionalCheckFailedException" or not old:
            raise
        if old["digest"]["S"] != digest or old["stage"]["S"] == STORED:
            raise
        # another delivery of the same message forwarded it first, or a courier took it
