"""Events of a pipeline's source, and the handler's answers read back in its terms.

``rest`` is API Gateway's REST proxy event (payload 1.0), ``http`` the HTTP API's (payload
2.0: ``rawPath``, ``requestContext.http``, lower-case header names), ``direct`` the body
itself, ``sqs`` a batch of SQS records whose bodies are the requests. Pure: events are plain
dicts.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from model.core.events import Encoding, api_event, with_request_id
from model.core.spec import Pipeline
from model.core.views import Kind, Reply, classify_http

JSON = "application/json"


def http_event(
    method: str, path: str, body: str | None, headers: dict[str, str], request_id: str
) -> dict[str, Any]:
    """An HTTP API (payload format 2.0) event as API Gateway hands it to a Lambda."""
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {name.lower(): value for name, value in headers.items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "queuecheck",
            "domainName": "queuecheck.execute-api.us-east-1.amazonaws.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "queuecheck",
            },
            "requestId": request_id,
            "routeKey": f"{method} {path}",
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def event_for(
    pipeline: Pipeline,
    body: Any,
    request_id: str,
    *,
    raw: bool = False,
    encoding: Encoding | None = None,
) -> Any:
    """The event that carries ``body`` to the pipeline's handler. A dict (or, with ``raw``,
    any value) is the body; for rest and http, ``raw`` text is sent as it is. ``encoding``
    spells a valid request as the source may deliver it (header case, media type, JSON
    whitespace and key order, base64); without one, plain ``Content-Type: application/json``."""
    if pipeline.source == "direct":
        return body
    spelled = encoding or Encoding()
    if raw and (body is None or isinstance(body, str)):
        text = body
    else:
        text = spelled.text(body) if encoding else json.dumps(body)
    if pipeline.source == "sqs":
        return sqs_event([(f"{request_id}-1", text or "")])
    headers = {spelled.header("Content-Type"): spelled.media_type}
    headers |= {spelled.header(name): value for name, value in pipeline.headers.items()}
    if pipeline.source == "http":
        event = http_event(pipeline.method, pipeline.path, text, headers, request_id)
    else:
        event = api_event(
            pipeline.method,
            pipeline.path,
            text,
            headers,
            base64_encoded=spelled.base64 and text is not None,
            request_id=request_id,
        )
    if pipeline.authorizer is not None:
        event["requestContext"]["authorizer"] = json.loads(json.dumps(pipeline.authorizer))
    return event


def sqs_event(records: Sequence[tuple[str, str]], receive_count: int = 1) -> dict[str, Any]:
    """An SQS event as Lambda's event source mapping hands a batch over: one record per
    (message id, body)."""
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": f"queuecheck-receipt-{message_id}-{receive_count}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": str(receive_count),
                    "SentTimestamp": "1767225600000",
                    "SenderId": "AIDAQUEUECHECK",
                    "ApproximateFirstReceiveTimestamp": "1767225600001",
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode("utf-8")).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:queuecheck-source",
                "awsRegion": "us-east-1",
            }
            for message_id, body in records
        ]
    }


def batch_of(event: Any) -> list[str]:
    """The message ids of an SQS event's records, in order."""
    records = event.get("Records") if isinstance(event, dict) else None
    return [str(record.get("messageId")) for record in records or []]


def redelivered(event: Any, index: int) -> Any:
    """One record of an SQS batch, delivered again on its own (as SQS redelivers a message
    whose receipt was not deleted): same message id, one more receive."""
    record = event["Records"][index]
    count = int(record["attributes"]["ApproximateReceiveCount"]) + 1
    return sqs_event([(record["messageId"], record["body"])], count)


def read_batch(pipeline: Pipeline, answer: Any, message_ids: Sequence[str]) -> tuple[Reply, ...]:
    """What an SQS handler's return value says of each record of its batch, as Lambda reads it
    (AWS Lambda's "Reporting batch item failures" for SQS). Without partial batch responses,
    returning acknowledges the whole batch. With them, a null or empty response, and a null,
    absent or empty ``batchItemFailures``, acknowledge the whole batch; otherwise the records
    listed there failed and the others are acknowledged, unless an item is malformed (not an
    object; its ``itemIdentifier`` missing, null, empty, or not a message of the batch) or the
    response is no such object: then the whole batch failed."""
    acknowledged = Reply(Kind.ACCEPTED, None, "", note="acknowledged")
    if not pipeline.partial_batch:
        return tuple(acknowledged for _ in message_ids)
    listed = _listed(answer, message_ids)
    if listed is None:
        why = (
            f"failed: returned {_text(answer)[:160]}, which Lambda reads as the whole batch failed"
        )
        return tuple(Reply(Kind.FAILED, None, why, note=why) for _ in message_ids)
    listed_failed = Reply(Kind.FAILED, None, "", note="failed (listed in batchItemFailures)")
    return tuple(
        listed_failed if message_id in listed else acknowledged for message_id in message_ids
    )


def _listed(answer: Any, message_ids: Sequence[str]) -> set[str] | None:
    """The message ids a partial batch response names as failed; None: Lambda cannot read it
    (the whole batch failed)."""
    if answer is None:
        return set()
    if not isinstance(answer, dict):
        return None
    failures = answer.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    listed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in message_ids:
            return None  # not an object, no itemIdentifier, null, empty, or not of the batch
        listed.add(identifier)
    return listed


def again(pipeline: Pipeline, event: Any, request_id: str) -> Any:
    """The same request again as API Gateway would send a retry: a new request id (a direct
    invocation carries none)."""
    if pipeline.source == "direct" or not isinstance(event, dict):
        return event
    return with_request_id(event, request_id)


class NotAnAnswer(ValueError):
    """The handler returned something API Gateway cannot turn into an HTTP answer."""


def read_answer(pipeline: Pipeline, answer: Any) -> Reply:
    """A handler's return value in the pipeline's terms; ``NotAnAnswer`` if it has none.

    An HTTP API (payload 2.0) accepts any JSON value without ``statusCode`` as a 200 with
    that value as the body; a REST proxy integration answers 502 instead.
    """
    if pipeline.source == "direct":
        return Reply(Kind.ACCEPTED, None, _text(answer))
    if pipeline.source == "http" and not (isinstance(answer, dict) and "statusCode" in answer):
        return classify_http(pipeline, 200, _text(answer))
    if not isinstance(answer, dict) or not isinstance(answer.get("statusCode"), int):
        raise NotAnAnswer(f"returned {answer!r:.200}, not a proxy response with a statusCode")
    body = answer.get("body") or ""
    if not isinstance(body, str):
        raise NotAnAnswer(f"returned a body that is {type(body).__name__}, not a string")
    if answer.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except ValueError:
            raise NotAnAnswer("returned isBase64Encoded with a body that is not base64") from None
    return classify_http(pipeline, answer["statusCode"], body)


def _text(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        return repr(value)
