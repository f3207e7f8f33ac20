"""Print-job intake behind an API Gateway REST API (proxy integration, payload format 1.0).

BUGGY ON PURPOSE (a queuecheck example): when an AWS call fails, the caller gets a 500 whose
body is the exception's text: ``An error occurred (ProvisionedThroughputExceededException)
when calling the PutItem operation: ...``, or a timeout naming the endpoint URL. That tells
anyone on the internet which services, tables and operations sit behind the API (and, with
some errors, the table's name or the queue's URL), and it tells the caller nothing it can act
on. Everything else is done right.

POST /jobs with {"job": {...}}: the caller sends no id; the intake makes one (a UUID) and
answers 201 {"job": {"id": "<uuid>", "state": "QUEUED"}}. The job is stored as NEW in
JOBS_TABLE (string key jobId) with a conditional PutItem, sent to the printers' queue
(JOBS_QUEUE_URL), then moved NEW -> QUEUED with a conditional UpdateItem; printers move it on
to PRINTING and PRINTED. A job whose send failed stays NEW (a sweeper removes it).
"""

import contextlib
import functools
import json
import os
import uuid

import boto3
from botocore.config import Config

NEW, QUEUED = "NEW", "QUEUED"


@functools.cache
def _client(service):
    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))


def _response(status, body):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }


def handler(event, context):
    if not isinstance(event, dict) or event.get("resource") != "/jobs":
        return _response(404, {"error": "not found"})
    try:
        body = json.loads(event.get("body") or "")
    except ValueError:
        return _response(400, {"error": "the body must be JSON"})
    job = body.get("job") if isinstance(body, dict) else None
    if not isinstance(job, dict):
        return _response(400, {"error": "job must be an object"})
    try:
        job_id = _submit(job)
    except Exception as e:
        # BUG: the exception's text goes to the caller.
        return _response(500, {"error": str(e)})
    return _response(201, {"job": {"id": job_id, "state": QUEUED}})


def _submit(job):
    dynamodb, table = _client("dynamodb"), os.environ["JOBS_TABLE"]
    job_id = str(uuid.uuid4())
    dynamodb.put_item(
        TableName=table,
        Item={
            "jobId": {"S": job_id},
            "job": {"S": json.dumps(job)},
            "state": {"S": NEW},
        },
        ConditionExpression="attribute_not_exists(jobId)",
    )
    _client("sqs").send_message(
        QueueUrl=os.environ["JOBS_QUEUE_URL"],
        MessageBody=json.dumps({"jobId": job_id, "job": job}),
    )
    # a failed condition: a printer already took the job, so it was queued
    with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.update_item(
            TableName=table,
            Key={"jobId": {"S": job_id}},
            UpdateExpression="SET #state = :queued",
            ConditionExpression="#state = :new",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":queued": {"S": QUEUED}, ":new": {"S": NEW}},
        )
    return job_id
