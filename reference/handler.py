"""The Lambda entry point: route, validate, run the intake, render the answer.

Every path ends in a JSON response; exceptions are logged, never shown to the caller.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from reference import clients, errors, validation
from reference.config import ConfigError, Settings
from reference.errors import ApiError
from reference.logs import log
from reference.queue import SqsQueue
from reference.service import Intake, Queue, Store
from reference.store import DynamoStore

JSON_HEADERS = {"Content-Type": "application/json"}


def _now() -> datetime:
    return datetime.now(UTC)


def _request_id(event: Any, context: Any) -> str:
    if isinstance(event, dict):
        request_context = event.get("requestContext")
        if isinstance(request_context, dict) and isinstance(request_context.get("requestId"), str):
            return str(request_context["requestId"])
    aws_request_id = getattr(context, "aws_request_id", None)
    return aws_request_id if isinstance(aws_request_id, str) else str(uuid.uuid4())


def _respond(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": json.dumps(body, ensure_ascii=False),
        "isBase64Encoded": False,
    }


def _error_response(error: ApiError, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": error.code,
        "message": error.message,
        "requestId": request_id,
    }
    if error.details:
        body["details"] = [{"field": d.field, "problem": d.problem} for d in error.details]
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    if error.allow is not None:
        headers["Allow"] = error.allow
    return _respond(error.http_status, {"error": body}, headers)


def build_handler(
    *,
    store: Callable[[Any, str], Store] = DynamoStore,
    queue: Callable[[Any, str], Queue] = SqsQueue,
    intake: type[Intake] = Intake,
    render_error: Callable[[ApiError, str], dict[str, Any]] = _error_response,
) -> Callable[[Any, Any], dict[str, Any]]:
    """A Lambda handler wired from its parts; ``lambda_handler`` below is the real wiring.

    The parts are injectable so that variants (tests, the harness's zoo of broken handlers)
    differ from the reference in exactly one place.
    """

    def make_intake(request_id: str) -> Intake:
        settings = Settings.from_env()
        return intake(
            store=store(clients.dynamodb(), settings.table_name),
            queue=queue(clients.sqs(), settings.queue_url),
            clock=_now,
            ttl_seconds=settings.ttl_seconds,
            request_id=request_id,
        )

    def handle(event: Any, context: Any) -> dict[str, Any]:
        request_id = _request_id(event, context)
        try:
            route = validation.route(event)
            if route.resource == "collection":
                submission = validation.parse_submission(event)
                accepted = make_intake(request_id).submit(submission)
                return _respond(
                    accepted.http_status,
                    {
                        "messageId": accepted.message_id,
                        "status": accepted.status,
                        "duplicate": accepted.duplicate,
                    },
                )
            if route.message_id is None:  # an explicit check: `python -O` drops an assert
                raise RuntimeError("routed to a message without its messageId")
            if not validation.valid_message_id(route.message_id):
                raise errors.not_found()
            return _respond(200, make_intake(request_id).view(route.message_id).public_view())
        except ApiError as error:
            if error.code == "VALIDATION_ERROR":
                problems = [f"{d.field}: {d.problem}" for d in error.details]
                log("validate", "rejected", requestId=request_id, problems=problems)
            return render_error(error, request_id)
        except ConfigError as exc:
            log("config", "missing", logging.ERROR, requestId=request_id, error=str(exc))
            return render_error(errors.internal(), request_id)
        except Exception:
            logging.getLogger("queuecheck.reference").exception(
                json.dumps(
                    {"step": "handler", "outcome": "unexpected error", "requestId": request_id}
                )
            )
            return render_error(errors.internal(), request_id)

    return handle


lambda_handler = build_handler()
