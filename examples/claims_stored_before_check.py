"""Insurance claim intake behind an API Gateway REST API (proxy integration, payload 1.0).

POST /claims with {"claimId": "...", "claim": {...}}: store the claim as RECEIVED in
CLAIMS_TABLE (string key pk), send it to the assessment queue (CLAIMS_QUEUE_URL), then set
SUBMITTED. Assessors later set ASSESSED, then SETTLED.

BUGGY ON PURPOSE (a queuecheck example): the audit rule "every claim we are sent is kept" was
read as "store the request first, check it afterwards". The handler stores whatever came under
the claimId, then checks the claim, and answers 400 for one that is not an object: the
refused request leaves a RECEIVED record behind (holding the bad claim), which no message
names and which makes the caller's corrected claim under the same id a 409. Everything else
(conditional writes, resume of a RECEIVED claim, 409 for other content) is done right.
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

RECEIVED, SUBMITTED = "RECEIVED", "SUBMITTED"


class BadClaim(Exception):
    """The request is not a claim (the message is safe to show the caller)."""


@functools.cache
def _client(service):
    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))


def _reply(status, body, headers=None):
    headers = {"Content-Type": "application/json", **(headers or {})}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def _code(exc):
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def _body(event):
    raw = event.get("body")
    if not raw:
        raise BadClaim("a JSON body is required")
    try:
        data = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw
        body = json.loads(data)
    except ValueError as exc:
        raise BadClaim("the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise BadClaim("the body must be a JSON object")
    claim_id = body.get("claimId")
    if not isinstance(claim_id, str) or not 0 < len(claim_id) <= 200:
        raise BadClaim("claimId must be a string of 1 to 200 characters")
    return claim_id, body.get("claim")


def handler(event, context):
    route = (event.get("httpMethod"), event.get("path")) if isinstance(event, dict) else None
    if route != ("POST", "/claims"):
        return _reply(404, {"message": "not found"})
    try:
        return _submit(*_body(event))
    except BadClaim as exc:
        return _reply(400, {"message": str(exc)})
    except (ClientError, BotoCoreError) as exc:
        log.warning("claim intake: AWS call failed (%s)", _code(exc) or type(exc).__name__)
        if "AccessDenied" in _code(exc):
            return _reply(500, {"message": "internal error"})
        return _reply(503, {"message": "try again later"}, {"Retry-After": "1"})
    except Exception:
        log.exception("claim intake: unexpected error")
        return _reply(500, {"message": "internal error"})


def _submit(claim_id, claim):
    dynamodb, table = _client("dynamodb"), os.environ["CLAIMS_TABLE"]
    key = {"pk": {"S": f"CLAIM#{claim_id}"}}
    claim_json = json.dumps(claim, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(claim_json.encode()).hexdigest()
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    # BUG: the claim is stored as it came, before it is checked (the "audit" record).
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **key,
                "claimId": {"S": claim_id},
                "claim": {"S": claim_json},
                "claimHash": {"S": digest},
                "claimStatus": {"S": RECEIVED},
                "receivedAt": {"S": now},
            },
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        old = exc.response.get("Item")
        if _code(exc) != "ConditionalCheckFailedException" or old is None:
            raise
        if old["claimHash"]["S"] != digest:
            return _reply(409, {"message": "claimId already used for another claim"})
        if old["claimStatus"]["S"] != RECEIVED:
            return _reply(200, {"claimId": claim_id, "status": old["claimStatus"]["S"]})
        log.info("claim %s: finishing an earlier attempt", claim_id)

    if not isinstance(claim, dict):
        raise BadClaim("claim must be an object")  # the RECEIVED record stays

    message = {"claim": {"id": claim_id, "details": claim}}
    _client("sqs").send_message(
        QueueUrl=os.environ["CLAIMS_QUEUE_URL"], MessageBody=json.dumps(message)
    )

    try:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #status = :submitted, submittedAt = :now",
            ConditionExpression="#status = :received AND claimHash = :hash",
            ExpressionAttributeNames={"#status": "claimStatus"},
            ExpressionAttributeValues={
                ":submitted": {"S": SUBMITTED},
                ":received": {"S": RECEIVED},
                ":hash": {"S": digest},
                ":now": {"S": now},
            },
        )
    except ClientError as exc:
        if _code(exc) != "ConditionalCheckFailedException":
            raise
        # Another attempt submitted it first, or assessment moved it on: both are fine.
        current = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        if not current or current["claimHash"]["S"] != digest:
            raise
        if current["claimStatus"]["S"] == RECEIVED:
            raise
        return _reply(202, {"claimId": claim_id, "status": current["claimStatus"]["S"]})
    return _reply(202, {"claimId": claim_id, "status": SUBMITTED})
