"""Dispatch stage triggered by SQS (an event source mapping with ReportBatchItemFailures).

BUGGY ON PURPOSE (a queuecheck example): a message whose DynamoDB write or SQS send failed
(after botocore's own retries) is logged and acknowledged like a handled one: "boto3 retries
already; log it and move on". Acknowledged, SQS deletes it: a dispatch whose PutItem was
throttled is never stored nor forwarded, and one whose forward failed stays STORED for ever.
Nobody is told; the error log line is all that is left. Everything else is done right:
messages that are not dispatches, or that name a stored dispatch with another route, are
reported in batchItemFailures (they end in the dead-letter queue).

The second stage of a pipeline: the planning service puts {"dispatchId": "...", "route":
{...}} on the incoming queue; each dispatch is stored as STORED in DISPATCHES_TABLE (string
keys pk, sk), forwarded to this stage's own queue (DISPATCHES_QUEUE_URL, read by the drivers),
then set to FORWARDED; the drivers move it on to DRIVING and DONE. A redelivered message of a
FORWARDED dispatch sends nothing; one of a STORED dispatch finishes it.
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
            _handle(*_dispatch(record["body"]))
        except Unusable as exc:
            logger.warning("message %s: %s", message_id, exc)
            failures.append({"itemIdentifier": message_id})
        except (ClientError, BotoCoreError) as exc:
            # BUG: boto3 has retried already, so the message is acknowledged anyway: SQS deletes
            # it, and the dispatch is lost.
            logger.error("message %s: AWS call failed (%s)", message_id, _code(exc) or exc)
    return {"batchItemFailures": failures}


def _dispatch(body):
    try:
        message = json.loads(body)
    except ValueError:
        raise Unusable("the body is not JSON") from None
    if not isinstance(message, dict):
        raise Unusable("the body is not a JSON object")
    dispatch_id, route = message.get("dispatchId"), message.get("route")
    if not isinstance(dispatch_id, str) or not 0 < len(dispatch_id) <= 200:
        raise Unusable("dispatchId must be a string of 1 to 200 characters")
    if not isinstance(route, dict):
        raise Unusable("route must be an object")
    return dispatch_id, route


def _handle(dispatch_id, route):
    dynamodb, table = _client("dynamodb"), os.environ["DISPATCHES_TABLE"]
    key = {"pk": {"S": f"DSP#{dispatch_id}"}, "sk": {"S": "DISPATCH"}}
    route_json = json.dumps(route, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(route_json.encode()).hexdigest()
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **key,
                "route": {"S": route_json},
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
            raise Unusable(f"dispatch {dispatch_id} is stored with another route") from None
        if old["stage"]["S"] != STORED:
            return  # a redelivery of a message already forwarded
    _client("sqs").send_message(
        QueueUrl=os.environ["DISPATCHES_QUEUE_URL"],
        MessageBody=json.dumps({"dispatch": {"id": dispatch_id, "route": route}}),
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
        # another delivery of the same message forwarded it first, or a driver took it
