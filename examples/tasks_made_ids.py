"""Task intake behind an API Gateway HTTP API (payload format 2.0) with a JWT authorizer.

POST /tasks with {"task": {...}}: the caller sends no id; the intake makes one (a UUID) and
answers 202 {"taskId": "<uuid>", "status": "QUEUED"}. The task is stored as PENDING in
TASKS_TABLE (string keys pk, sk) with its owner (the token's ``sub`` claim, which API Gateway
puts in requestContext.authorizer.jwt.claims), sent to the workers' queue (TASKS_QUEUE_URL),
then set to QUEUED; workers move it on to RUNNING and DONE.

Both writes are conditional: the PutItem only creates (a UUID is new, and nothing may
overwrite a task), the UpdateItem only moves PENDING to QUEUED (never back over a worker that
already picked the task up). When SQS refuses the message the task stays PENDING and the caller
gets a 503; it cannot finish that task (it never learned its id), so its retry makes a new one,
and a sweeper deletes PENDING tasks older than a day. Two statuses are what make this safe: a
task that is QUEUED was sent, always.
"""

import functools
import json
import logging
import os
import uuid
from datetime import UTC, datetime

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

PENDING, QUEUED = "PENDING", "QUEUED"


class BadRequest(Exception):
    """The request is not a task (the message is safe to show the caller)."""


@functools.cache
def _client(service):
    config = Config(retries={"mode": "standard", "max_attempts": 3}, read_timeout=5)
    return boto3.client(service, config=config)


def _respond(status, body, headers=None):
    headers = {"content-type": "application/json", **(headers or {})}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def _owner(event):
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = (authorizer.get("jwt") or {}).get("claims") or {}
    owner = claims.get("sub")
    return owner if isinstance(owner, str) and owner else None


def _task(event):
    try:
        body = json.loads(event.get("body") or "")
    except ValueError as exc:
        raise BadRequest("the body must be JSON") from exc
    task = body.get("task") if isinstance(body, dict) else None
    if not isinstance(task, dict):
        raise BadRequest("task must be an object")
    return task


def handler(event, context):
    if not isinstance(event, dict) or event.get("routeKey") != "POST /tasks":
        return _respond(404, {"message": "not found"})
    owner = _owner(event)
    if owner is None:
        return _respond(401, {"message": "unauthorized"})
    try:
        return _create(owner, _task(event))
    except BadRequest as exc:
        return _respond(400, {"message": str(exc)})
    except (ClientError, BotoCoreError) as exc:
        code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else ""
        logger.warning("task intake: AWS call failed (%s)", code or type(exc).__name__)
        if "AccessDenied" in code:
            return _respond(500, {"message": "internal error"})
        return _respond(503, {"message": "try again later"}, {"retry-after": "1"})


def _create(owner, task):
    task_id = str(uuid.uuid4())
    table = os.environ["TASKS_TABLE"]
    key = {"pk": {"S": f"TASK#{task_id}"}, "sk": {"S": "META"}}
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    dynamodb = _client("dynamodb")
    dynamodb.put_item(
        TableName=table,
        Item={
            **key,
            "taskId": {"S": task_id},
            "owner": {"S": owner},
            "task": {"S": json.dumps(task, separators=(",", ":"))},
            "status": {"S": PENDING},
            "createdAt": {"S": now},
        },
        ConditionExpression="attribute_not_exists(pk)",
    )
    message = {"taskId": task_id, "owner": owner, "task": task}
    _client("sqs").send_message(
        QueueUrl=os.environ["TASKS_QUEUE_URL"], MessageBody=json.dumps(message)
    )
    try:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #s = :queued, queuedAt = :now",
            ConditionExpression="#s = :pending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":queued": {"S": QUEUED},
                ":pending": {"S": PENDING},
                ":now": {"S": now},
            },
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        # A worker got the message and moved the task on before this update: it was queued.
        logger.info("task %s: already picked up", task_id)
    return _respond(202, {"taskId": task_id, "status": QUEUED})
