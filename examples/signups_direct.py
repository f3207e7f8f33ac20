"""Signup intake invoked directly (Lambda Invoke from another service, no API Gateway).

The event is the signup itself: {"signupId": "...", "profile": {...}}. The signup is stored
with work_status NEW, sent to the onboarding queue, then set to "IN QUEUE". Returning means
the signup was accepted; raising means it was not: InvalidSignup (a ValueError) for input the
caller must fix, SignupUnavailable (a RuntimeError) when AWS failed and a retry may succeed.

Invoking again with the same signup is safe: one already IN QUEUE is returned as a duplicate
without a second message, a NEW one (an earlier invocation died half way) is finished, and the
same signupId with another profile raises SignupConflict (an InvalidSignup).

Environment: SIGNUPS_TABLE (string key PK) and SIGNUPS_QUEUE_URL.
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

logger = logging.getLogger(__name__)

NEW, IN_QUEUE = "NEW", "IN QUEUE"


class InvalidSignup(ValueError):
    """The event is not a valid signup."""


class SignupConflict(InvalidSignup):
    """The signupId is already taken by a signup with another profile."""


class SignupUnavailable(RuntimeError):
    """AWS did not do what was needed; invoking again later may succeed."""


@functools.cache
def _clients():
    config = Config(retries={"mode": "standard", "max_attempts": 3})
    return boto3.client("dynamodb", config=config), boto3.client("sqs", config=config)


def _condition_failed(exc):
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


def handler(event, context):
    if not isinstance(event, dict):
        raise InvalidSignup("the event must be an object")
    signup_id, profile = event.get("signupId"), event.get("profile")
    if not isinstance(signup_id, str) or not 0 < len(signup_id) <= 200:
        raise InvalidSignup("signupId must be a string of 1 to 200 characters")
    if not isinstance(profile, dict):
        raise InvalidSignup("profile must be an object")
    profile_json = json.dumps(profile, sort_keys=True)
    if len(profile_json) > 64 * 1024:
        raise InvalidSignup("profile is too large")
    try:
        return _register(signup_id, profile, profile_json)
    except (ClientError, BotoCoreError) as exc:
        logger.error("signup %s not registered: %s", signup_id, exc)
        raise SignupUnavailable("signup could not be registered, try again later") from None


def _register(signup_id, profile, profile_json):
    dynamodb, sqs = _clients()
    table = os.environ["SIGNUPS_TABLE"]
    key = {"PK": {"S": f"SIGNUP#{signup_id}"}}
    digest = hashlib.sha256(profile_json.encode()).hexdigest()
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **key,
                "signup_id": {"S": signup_id},
                "profile_json": {"S": profile_json},
                "profile_sha256": {"S": digest},
                "work_status": {"S": NEW},
                "created_at": {"S": datetime.now(UTC).isoformat()},
            },
            ConditionExpression="attribute_not_exists(PK)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if not _condition_failed(exc) or "Item" not in exc.response:
            raise
        existing = exc.response["Item"]
        if existing["profile_sha256"]["S"] != digest:
            raise SignupConflict("signupId is already registered with another profile") from None
        if existing["work_status"]["S"] != NEW:
            return {
                "signupId": signup_id,
                "status": existing["work_status"]["S"],
                "duplicate": True,
            }
        logger.info("signup %s: finishing an earlier invocation", signup_id)

    sqs.send_message(
        QueueUrl=os.environ["SIGNUPS_QUEUE_URL"],
        MessageBody=json.dumps(
            {"kind": "signup", "data": {"signupId": signup_id, "profile": profile}}
        ),
    )

    try:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET work_status = :in_queue, queued_at = :now",
            ConditionExpression="work_status = :new AND profile_sha256 = :digest",
            ExpressionAttributeValues={
                ":in_queue": {"S": IN_QUEUE},
                ":new": {"S": NEW},
                ":digest": {"S": digest},
                ":now": {"S": datetime.now(UTC).isoformat()},
            },
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if not _condition_failed(exc):
            raise
        # Another invocation finished it first: fine if it is the same signup, now queued.
        current = exc.response.get("Item")
        if not current or current["profile_sha256"]["S"] != digest:
            raise
        if current["work_status"]["S"] == NEW:
            raise
        return {"signupId": signup_id, "status": current["work_status"]["S"], "duplicate": False}
    return {"signupId": signup_id, "status": IN_QUEUE, "duplicate": False}
