"""Summary-request intake for a language-model worker, invoked directly (Lambda Invoke).

BUGGY ON PURPOSE (a queuecheck example): every request is logged with its text, "to debug the
model's answers later". The text is what a user pasted (a letter, a contract, a medical
report): CloudWatch now keeps a copy of it for as long as the log group's retention says,
readable by everyone with log access, outside the table's encryption, access control and
deletion. Everything else is done right.

The event is {"summaryId": "...", "text": "<text>"}: the text is stored as RECEIVED in
SUMMARIES_TABLE (string key id), sent to the workers' queue (SUMMARIES_QUEUE_URL), then set to
QUEUED; the workers move it on to SUMMARISED. Returning means accepted; raising means not:
BadRequest (a ValueError) for input the caller must fix or another text under the same id,
SummariesUnavailable (a RuntimeError) when AWS failed. A repeat of a QUEUED request is a
duplicate, of a RECEIVED one finished; a request whose send failed stays RECEIVED.
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
logger.setLevel(logging.INFO)

RECEIVED, QUEUED = "RECEIVED", "QUEUED"
MAX_TEXT = 16_000


class BadRequest(ValueError):
    """The event is not a summary request this intake can take."""


class SummariesUnavailable(RuntimeError):
    """AWS did not do what was needed; invoking again later may succeed."""


@functools.cache
def _clients():
    config = Config(retries={"mode": "standard", "max_attempts": 3})
    return boto3.client("dynamodb", config=config), boto3.client("sqs", config=config)


def _condition_failed(exc):
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


def handler(event, context):
    if not isinstance(event, dict):
        raise BadRequest("the event must be an object")
    summary_id, text = event.get("summaryId"), event.get("text")
    if not isinstance(summary_id, str) or not 0 < len(summary_id) <= 200:
        raise BadRequest("summaryId must be a string of 1 to 200 characters")
    if not isinstance(text, str) or not 0 < len(text) <= MAX_TEXT:
        raise BadRequest(f"text must be a string of 1 to {MAX_TEXT} characters")
    # BUG: the user's text goes to the logs.
    logger.info("summary %s requested: %r", summary_id, text)
    try:
        return _take(summary_id, text)
    except (ClientError, BotoCoreError) as exc:
        code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else ""
        logger.warning("summary %s: AWS call failed (%s)", summary_id, code or type(exc).__name__)
        raise SummariesUnavailable("summaries are unavailable; try again later") from None


def _take(summary_id, text):
    dynamodb, sqs = _clients()
    table, key = os.environ["SUMMARIES_TABLE"], {"id": {"S": f"summary:{summary_id}"}}
    digest = hashlib.sha256(text.encode()).hexdigest()
    try:
        dynamodb.put_item(
            TableName=table,
            Item={**key, "text": {"S": text}, "digest": {"S": digest}, "stage": {"S": RECEIVED}},
            ConditionExpression="attribute_not_exists(id)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        old = exc.response.get("Item")
        if not _condition_failed(exc) or old is None:
            raise
        if old["digest"]["S"] != digest:
            raise BadRequest("summaryId is already used for another text") from None
        if old["stage"]["S"] != RECEIVED:
            return {"summaryId": summary_id, "stage": old["stage"]["S"], "duplicate": True}
        logger.info("summary %s: finishing an earlier attempt", summary_id)
    sqs.send_message(
        QueueUrl=os.environ["SUMMARIES_QUEUE_URL"],
        MessageBody=json.dumps({"summaryId": summary_id, "text": text}),
    )
    try:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET stage = :queued",
            ConditionExpression="stage = :received AND digest = :digest",
            ExpressionAttributeValues={
                ":queued": {"S": QUEUED},
                ":received": {"S": RECEIVED},
                ":digest": {"S": digest},
            },
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        old = exc.response.get("Item")
        if not _condition_failed(exc) or not old or old["digest"]["S"] != digest:
            raise
        if old["stage"]["S"] == RECEIVED:
            raise
        # another invocation queued it, or a worker already answered it: it is queued
        return {"summaryId": summary_id, "stage": old["stage"]["S"], "duplicate": True}
    return {"summaryId": summary_id, "stage": QUEUED, "duplicate": False}
