"""Prompt intake for a language-model worker, invoked directly (Lambda Invoke, no API Gateway).

The event is {"promptId": "...", "prompt": "<text>"}: the prompt is a user's text, which may
hold anything they typed (names, addresses, health questions), so it is stored and sent but
never logged: the logs say which prompt and how long it was, nothing of what it says.

The prompt is stored as RECEIVED in PROMPTS_TABLE (string key id), sent to the workers' queue
(PROMPTS_QUEUE_URL), then set to QUEUED; the workers move it on to ANSWERED. Returning means
the prompt was accepted; raising means it was not: BadPrompt (a ValueError) for input the
caller must fix or another text under the same id, PromptsUnavailable (a RuntimeError, with a
fixed message) when AWS failed and invoking again may succeed. Invoking again with the same
prompt is safe: a QUEUED one is a duplicate, a RECEIVED one (an earlier invocation stopped half
way) is finished. A prompt whose send failed stays RECEIVED for the retry.
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
MAX_PROMPT = 16_000


class BadPrompt(ValueError):
    """The event is not a prompt this intake can take."""


class PromptsUnavailable(RuntimeError):
    """AWS did not do what was needed; invoking again later may succeed."""


@functools.cache
def _clients():
    config = Config(retries={"mode": "standard", "max_attempts": 3})
    return boto3.client("dynamodb", config=config), boto3.client("sqs", config=config)


def _condition_failed(exc):
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


def handler(event, context):
    if not isinstance(event, dict):
        raise BadPrompt("the event must be an object")
    prompt_id, prompt = event.get("promptId"), event.get("prompt")
    if not isinstance(prompt_id, str) or not 0 < len(prompt_id) <= 200:
        raise BadPrompt("promptId must be a string of 1 to 200 characters")
    if not isinstance(prompt, str) or not 0 < len(prompt) <= MAX_PROMPT:
        raise BadPrompt(f"prompt must be a text of 1 to {MAX_PROMPT} characters")
    logger.info("prompt %s received (%d characters)", prompt_id, len(prompt))
    try:
        return _take(prompt_id, prompt)
    except (ClientError, BotoCoreError) as exc:
        code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else ""
        logger.warning("prompt %s: AWS call failed (%s)", prompt_id, code or type(exc).__name__)
        raise PromptsUnavailable("prompts are unavailable; try again later") from None


def _take(prompt_id, prompt):
    dynamodb, sqs = _clients()
    table, key = os.environ["PROMPTS_TABLE"], {"id": {"S": f"prompt:{prompt_id}"}}
    digest = hashlib.sha256(prompt.encode()).hexdigest()
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **key,
                "prompt": {"S": prompt},
                "digest": {"S": digest},
                "stage": {"S": RECEIVED},
            },
            ConditionExpression="attribute_not_exists(id)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        old = exc.response.get("Item")
        if not _condition_failed(exc) or old is None:
            raise
        if old["digest"]["S"] != digest:
            raise BadPrompt("promptId is already used for another prompt") from None
        if old["stage"]["S"] != RECEIVED:
            return {"promptId": prompt_id, "stage": old["stage"]["S"], "duplicate": True}
        logger.info("prompt %s: finishing an earlier attempt", prompt_id)
    sqs.send_message(
        QueueUrl=os.environ["PROMPTS_QUEUE_URL"],
        MessageBody=json.dumps({"promptId": prompt_id, "prompt": prompt}),
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
        return {"promptId": prompt_id, "stage": old["stage"]["S"], "duplicate": True}
    return {"promptId": prompt_id, "stage": QUEUED, "duplicate": False}
