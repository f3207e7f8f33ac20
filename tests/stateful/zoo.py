"""A zoo of broken handlers: the reference with one realistic bug each.

Each differs from the reference in exactly one place (``reference.handler.build_handler``
injects it), so a test that catches it proves the harness sees that bug and nothing else.
``VARIANTS`` maps each handler to the invariant expected to catch it (the README's table).
Every variant here is also runnable by hand: ``pytest tests/stateful --handler stateful.zoo:NAME``.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from reference import errors, validation
from reference.aws import translate
from reference.errors import ApiError
from reference.failures import QueueError, StoreError
from reference.handler import _error_response, build_handler
from reference.messages import Record, Status, Submission, iso_millis
from reference.service import Accepted, Intake
from reference.store import DynamoStore

F = TypeVar("F", bound=Callable[..., Any])


def translated(operation: str) -> Callable[[F], F]:
    """Turn botocore errors into StoreError as the reference does, so each variant keeps its one
    bug and does not add a second one (answering 500 for a throttle)."""

    def wrap(method: F) -> F:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except (ClientError, BotoCoreError) as exc:
                raise translate(exc, operation, StoreError) from exc

        return call  # type: ignore[return-value]

    return wrap


class UnconditionalUpdateStore(DynamoStore):
    """Marks QUEUED without ``ConditionExpression``: overwrites a consumer that got there first."""

    @translated("dynamodb.UpdateItem")
    def mark_queued(self, submission: Submission, sqs_message_id: str, now: Any) -> Record | None:
        self._client.update_item(
            TableName=self._table,
            Key={"messageId": {"S": submission.message_id}},
            UpdateExpression="SET #s = :q, updatedAt = :now, queuedAt = :now, sqsMessageId = :id",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":q": {"S": Status.QUEUED},
                ":now": {"S": iso_millis(now)},
                ":id": {"S": sqs_message_id},
            },
        )
        return Record(submission.message_id, Status.QUEUED, submission.payload_hash)


class PutItemStatusStore(DynamoStore):
    """Writes the whole item again to change the status: clobbers every other field."""

    @translated("dynamodb.PutItem")
    def mark_queued(self, submission: Submission, sqs_message_id: str, now: Any) -> Record | None:
        stamp = iso_millis(now)
        item = {
            "messageId": {"S": submission.message_id},
            "type": {"S": submission.type},
            "payload": {"S": submission.payload_json},
            "payloadHash": {"S": submission.payload_hash},
            "status": {"S": Status.QUEUED},
            "createdAt": {"S": stamp},
            "updatedAt": {"S": stamp},
            "queuedAt": {"S": stamp},
            "sqsMessageId": {"S": sqs_message_id},
            "ttl": {"N": str(int(now.timestamp()) + 604_800)},
            "version": {"N": "2"},
        }
        if submission.attributes is not None:
            item["attributes"] = {"M": {k: {"S": v} for k, v in submission.attributes.items()}}
        self._client.put_item(TableName=self._table, Item=item)
        return Record(submission.message_id, Status.QUEUED, submission.payload_hash)


class _RewrittenPutStore(DynamoStore):
    """The reference store, with the arguments of its PutItem rewritten by ``rewrite``."""

    def rewrite(self, kwargs: dict[str, Any]) -> None:
        raise NotImplementedError

    def put_pending(
        self, submission: Submission, now: Any, ttl_seconds: int, request_id: str | None
    ) -> Record | None:
        client = self._client
        original = client.put_item

        def put_item(**kwargs: Any) -> Any:
            self.rewrite(kwargs)
            return original(**kwargs)

        self._client = _Proxy(client, put_item=put_item)
        try:
            return super().put_pending(submission, now, ttl_seconds, request_id)
        finally:
            self._client = client


class NoExpiryStore(_RewrittenPutStore):
    """PutItem's condition forgets the expired-record clause: an expired id is never reusable."""

    def rewrite(self, kwargs: dict[str, Any]) -> None:
        kwargs["ConditionExpression"] = "attribute_not_exists(messageId)"
        kwargs.pop("ExpressionAttributeNames", None)
        kwargs.pop("ExpressionAttributeValues", None)


class UnconditionalPutStore(_RewrittenPutStore):
    """Stores with an unconditional PutItem: a duplicate overwrites the record it duplicates."""

    def rewrite(self, kwargs: dict[str, Any]) -> None:
        for key in (
            "ConditionExpression",
            "ExpressionAttributeNames",
            "ExpressionAttributeValues",
            "ReturnValuesOnConditionCheckFailure",
        ):
            kwargs.pop(key, None)


class _Proxy:
    """A client with some methods replaced."""

    def __init__(self, client: Any, **methods: Any) -> None:
        self._client, self._methods = client, methods

    def __getattr__(self, name: str) -> Any:
        return self._methods.get(name) or getattr(self._client, name)


class UpdateBeforeSendIntake(Intake):
    """Moves the record to QUEUED first, then sends: a failed send leaves a lost message."""

    def submit(self, submission: Submission) -> Accepted:
        existing = self._put(submission)
        if existing is not None:
            return existing
        try:
            self.store.mark_queued(submission, "not-sent-yet", self.clock())
            self.queue.send(submission)
        except (StoreError, QueueError) as exc:
            raise errors.unavailable() if exc.retryable else errors.internal() from exc
        return Accepted(submission.message_id, Status.QUEUED, duplicate=False)

    def _put(self, submission: Submission) -> Accepted | None:
        try:
            existing = self.store.put_pending(
                submission, self.clock(), self.ttl_seconds, self.request_id
            )
        except StoreError as exc:
            raise errors.unavailable() if exc.retryable else errors.internal() from exc
        if existing is None or existing.is_pending:
            return None
        if existing.payload_hash != submission.payload_hash:
            raise errors.idempotency_conflict()
        return Accepted(submission.message_id, str(existing.status), duplicate=True)


class SwallowedQueueErrorQueue:
    """Logs and ignores SQS errors, then carries on as if the message had been sent."""

    def __init__(self, client: Any, queue_url: str) -> None:
        from reference.queue import SqsQueue

        self._queue = SqsQueue(client, queue_url)

    def send(self, submission: Submission) -> str:
        try:
            return self._queue.send(submission)
        except QueueError:
            return "never-sent"


class SuccessAfterFailedUpdateIntake(Intake):
    """Answers 202 even when the PENDING -> QUEUED update failed."""

    def submit(self, submission: Submission) -> Accepted:
        try:
            return super().submit(submission)
        except ApiError as error:
            if (
                error.code == "SYSTEM_ERROR"
                and isinstance(error.__cause__, StoreError)
                and (error.__cause__.operation == "dynamodb.UpdateItem")
            ):
                return Accepted(submission.message_id, Status.QUEUED, duplicate=False)
            raise


class _LeakyError(ApiError):
    pass


def _leaky_render(error: ApiError, request_id: str) -> dict[str, Any]:
    answer = _error_response(error, request_id)
    if error.code == "SYSTEM_ERROR" and error.__cause__ is not None:
        body = json.loads(answer["body"])
        body["error"]["message"] = f"{error.message} ({error.__cause__})"
        answer["body"] = json.dumps(body)
    return answer


class ResendDuplicatesIntake(Intake):
    """Replays a duplicate by sending it again ("the client asked twice, so send twice")."""

    def submit(self, submission: Submission) -> Accepted:
        accepted = super().submit(submission)
        if accepted.duplicate:
            self.queue.send(submission)
        return accepted


class NoResumeIntake(Intake):
    """Treats a PENDING record like a finished one: an interrupted request is never completed."""

    def submit(self, submission: Submission) -> Accepted:
        try:
            existing = self.store.put_pending(
                submission, self.clock(), self.ttl_seconds, self.request_id
            )
        except StoreError as exc:
            raise errors.unavailable() if exc.retryable else errors.internal() from exc
        if existing is not None:
            if existing.payload_hash != submission.payload_hash:
                raise errors.idempotency_conflict()
            return Accepted(submission.message_id, str(existing.status), duplicate=True)
        self.store = _AlreadyStored(self.store)
        return super().submit(submission)


class _AlreadyStored:
    """Wraps a store whose put_pending already ran for this invocation."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def put_pending(self, *args: Any, **kwargs: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class ConflictAsDuplicateIntake(Intake):
    """Ignores the content fingerprint: other content under a used id is answered as a duplicate."""

    def submit(self, submission: Submission) -> Accepted:
        try:
            return super().submit(submission)
        except ApiError as error:
            if error.code == "IDEMPOTENCY_CONFLICT":
                return Accepted(submission.message_id, Status.QUEUED, duplicate=True)
            raise


class RollbackMarksFailedStore(DynamoStore):
    """ "Rolls back" a failed send by marking the record FAILED: a retry can never complete it."""

    @translated("dynamodb.UpdateItem")
    def note_enqueue_failure(self, submission: Submission, error: str, now: Any) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"messageId": {"S": submission.message_id}},
            UpdateExpression="SET #s = :failed, lastError = :e",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":failed": {"S": Status.FAILED}, ":e": {"S": error}},
        )


def _no_retry_after(error: ApiError, request_id: str) -> dict[str, Any]:
    answer = _error_response(error, request_id)
    answer["headers"].pop("Retry-After", None)
    return answer


def _all_errors_retryable(error: ApiError, request_id: str) -> dict[str, Any]:
    """Every SYSTEM_ERROR as 503 "try again": AccessDenied is then retried for ever."""
    if error.code == "SYSTEM_ERROR":
        error = errors.unavailable()
    return _error_response(error, request_id)


class ConsumerRaceAsFailureIntake(Intake):
    """Answers 500 when the conditional update finds the record moved on by a consumer, instead
    of reporting the current status as success ("the update failed, so the request failed")."""

    def submit(self, submission: Submission) -> Accepted:
        accepted = super().submit(submission)
        if not accepted.duplicate and accepted.status != Status.QUEUED:
            raise errors.internal()
        return accepted


class ExistsConditionStore(DynamoStore):
    """Marks QUEUED on the condition that the record exists, not that it is PENDING: a consumer
    that moved it on is dragged back, and the ends of the invocation still look consistent."""

    @translated("dynamodb.UpdateItem")
    def mark_queued(self, submission: Submission, sqs_message_id: str, now: Any) -> Record | None:
        try:
            self._update_if_exists(submission, sqs_message_id, now)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None  # gone: as the reference, a retry starts over
            raise
        return Record(submission.message_id, Status.QUEUED, submission.payload_hash)

    def _update_if_exists(self, submission: Submission, sqs_message_id: str, now: Any) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"messageId": {"S": submission.message_id}},
            UpdateExpression=(
                "SET #s = :q, updatedAt = :now, queuedAt = :now, sqsMessageId = :id, "
                "#v = #v + :one ADD enqueueAttempts :one"
            ),
            ConditionExpression="attribute_exists(messageId)",
            ExpressionAttributeNames={"#s": "status", "#v": "version"},
            ExpressionAttributeValues={
                ":q": {"S": Status.QUEUED},
                ":now": {"S": iso_millis(now)},
                ":id": {"S": sqs_message_id},
                ":one": {"N": "1"},
            },
        )


class CheckThenActStore(DynamoStore):
    """Deduplicates by reading first and writing unconditionally when nothing was found: a
    competing invocation that stored and queued the record in between is overwritten."""

    def put_pending(
        self, submission: Submission, now: Any, ttl_seconds: int, request_id: str | None
    ) -> Record | None:
        existing = self.get(submission.message_id)
        if existing is not None and not (
            existing.ttl is not None and existing.ttl < int(now.timestamp())
        ):
            return existing
        return UnconditionalPutStore(self._client, self._table).put_pending(
            submission, now, ttl_seconds, request_id
        )


class SwallowedStoreErrorStore(DynamoStore):
    """Logs and ignores a failed PutItem and carries on as if the record were stored: the message
    is sent for a record that does not exist."""

    def put_pending(
        self, submission: Submission, now: Any, ttl_seconds: int, request_id: str | None
    ) -> Record | None:
        try:
            return super().put_pending(submission, now, ttl_seconds, request_id)
        except StoreError:
            return None


class ConditionFailureAsOwnStore(DynamoStore):
    """Reads first and compares content there; when the conditional PutItem then fails anyway,
    reads the record again and takes it for this request's own ("it was just stored, it must be
    ours": true after a lost response, false when another client's content got in between)."""

    def put_pending(
        self, submission: Submission, now: Any, ttl_seconds: int, request_id: str | None
    ) -> Record | None:
        existing = self.get(submission.message_id)
        if existing is not None and not (
            existing.ttl is not None and existing.ttl < int(now.timestamp())
        ):
            return existing
        if super().put_pending(submission, now, ttl_seconds, request_id) is None:
            return None
        again = self.get(submission.message_id)
        if again is None:
            return None
        return Record(submission.message_id, again.status, submission.payload_hash)


_reference = build_handler()
_debug_log = logging.getLogger("intake.debug")
_debug_log.setLevel(logging.INFO)


def logs_the_event(event: Any, context: Any) -> dict[str, Any]:
    """Logs every event it receives "for debugging": payloads (personal data) end up in logs."""
    _debug_log.info("received %s", json.dumps(event))
    return _reference(event, context)


def case_sensitive_headers(event: Any, context: Any) -> dict[str, Any]:
    """Reads ``Idempotency-Key`` spelled exactly so (``headers["Idempotency-Key"]``): a client
    that sends ``idempotency-key`` gets a content-derived id instead of the one it asked for."""
    if isinstance(event, dict):
        event = dict(event)
        for field in ("headers", "multiValueHeaders"):
            if isinstance(event.get(field), dict):
                event[field] = {
                    name: value
                    for name, value in event[field].items()
                    if name == "Idempotency-Key" or name.lower() != "idempotency-key"
                }
    return _reference(event, context)


def base64_ignored(event: Any, context: Any) -> dict[str, Any]:
    """Ignores ``isBase64Encoded``: a body API Gateway handed over base64-encoded (a binary
    media type) is parsed as if it were the JSON itself, and refused."""
    if isinstance(event, dict) and event.get("isBase64Encoded"):
        event = {**event, "isBase64Encoded": False}
    return _reference(event, context)


def content_type_read_exactly(event: Any, context: Any) -> dict[str, Any]:
    """Reads ``headers["Content-Type"]`` spelled exactly so, to log the media type: a client that
    spells it ``content-type`` makes the handler raise ``KeyError`` (API Gateway answers 502)."""
    if isinstance(event, dict) and event.get("httpMethod") == "POST":
        _debug_log.info("media type %s", (event.get("headers") or {})["Content-Type"])
    return _reference(event, context)


def attributes_checked_after_storing(event: Any, context: Any) -> dict[str, Any]:
    """Checks a request's attributes only after storing and sending the rest of it: a request
    whose attributes alone are invalid is refused 400, its record and message already written.

    The red twin of scenarios/invalid_input_writes_nothing.toml. Not in ``VARIANTS``: the ci
    profile's run of the state machine did not catch it under pytest (a run with other modules
    imported did, by ``refusals_write_nothing``: Hypothesis draws from the constants of every
    local module imported, so what else was imported moves the run)."""
    if isinstance(event, dict) and event.get("httpMethod") == "POST":
        try:
            validation.parse_submission(event)
        except ApiError as error:
            if error.details and all(d.field.startswith("attributes") for d in error.details):
                body = validation.parse_json(validation._body_bytes(event))
                body.pop("attributes")
                _reference({**event, "body": json.dumps(body), "isBase64Encoded": False}, context)
    return _reference(event, context)


unconditional_update = build_handler(store=UnconditionalUpdateStore)
put_item_for_status = build_handler(store=PutItemStatusStore)
update_before_send = build_handler(intake=UpdateBeforeSendIntake)
swallowed_sqs_error = build_handler(queue=SwallowedQueueErrorQueue)
success_after_failed_update = build_handler(intake=SuccessAfterFailedUpdateIntake)
exception_text_in_error = build_handler(render_error=_leaky_render)
duplicates_sent_again = build_handler(intake=ResendDuplicatesIntake)
no_resume_of_pending = build_handler(intake=NoResumeIntake)
conflict_as_duplicate = build_handler(intake=ConflictAsDuplicateIntake)
expired_never_replaced = build_handler(store=NoExpiryStore)
rollback_marks_failed = build_handler(store=RollbackMarksFailedStore)
no_retry_after = build_handler(render_error=_no_retry_after)
unconditional_put = build_handler(store=UnconditionalPutStore)
access_denied_as_503 = build_handler(render_error=_all_errors_retryable)
consumer_race_as_failure = build_handler(intake=ConsumerRaceAsFailureIntake)
exists_condition_update = build_handler(store=ExistsConditionStore)
check_then_act_dedupe = build_handler(store=CheckThenActStore)
condition_failure_as_own = build_handler(store=ConditionFailureAsOwnStore)
swallowed_store_error = build_handler(store=SwallowedStoreErrorStore)

# variant -> (the bug in words, the invariant that catches it first on the ci profile). Where
# the bug breaks several invariants, the one met first (or the one shrinking ends on) differed
# between the file run alone and the whole suite under xdist (same code, same ci seed; what
# else a worker imported first is the likeliest cause): those list each ("a or b").
VARIANTS: dict[str, tuple[str, str]] = {
    "unconditional_update": (
        "status update without a condition",
        "statuses_only_move_forward or stored_records_match_submissions",
    ),
    "put_item_for_status": (
        "PutItem instead of UpdateItem for the status",
        "stored_records_match_submissions",
    ),
    "update_before_send": (
        "status set to QUEUED before the message is sent",
        "queued_records_were_sent",
    ),
    "swallowed_sqs_error": ("SQS errors swallowed", "queued_records_were_sent"),
    "success_after_failed_update": (
        "2xx after a failed status update",
        "accepted_requests_are_queued",
    ),
    "exception_text_in_error": (
        "exception text in SYSTEM_ERROR",
        "errors_are_documented_and_leak_nothing",
    ),
    "duplicates_sent_again": (
        "duplicate replays sent again",
        "sqs_failure_rolls_back or one_message_per_id_unless_disturbed or refusals_write_nothing "
        "or a_serial_order_explains_them",
    ),
    # the first failing run: a PutItem applied and its answer lost, the retry's condition fails
    # on the request's own new PENDING record, which the variant answers 200 "duplicate" (a 200
    # must change nothing, and this step stored the record); the shrunk run ends on the request
    # that is never queued
    "no_resume_of_pending": (
        "no resume of a PENDING record",
        "accepted_requests_are_queued or refusals_write_nothing",
    ),
    "conflict_as_duplicate": (
        "conflicting payload answered as a duplicate",
        "accepted_requests_are_queued or a_serial_order_explains_them",
    ),
    "expired_never_replaced": ("expired records never replaced", "answers_are_allowed"),
    "rollback_marks_failed": ("rollback marks the record FAILED", "sqs_failure_rolls_back"),
    "no_retry_after": ("503 without Retry-After", "errors_are_documented_and_leak_nothing"),
    "unconditional_put": (
        "unconditional PutItem overwrites duplicates",
        "metadata_never_changes or a_serial_order_explains_them",
    ),
    "access_denied_as_503": ("AccessDenied answered 503 (retry for ever)", "answers_are_allowed"),
    "consumer_race_as_failure": (
        "500 when a consumer moved the record on before the status update",
        "answers_are_allowed",
    ),
    "exists_condition_update": (
        "status update conditioned only on the record existing",
        "statuses_only_move_forward (after the race)",
    ),
    "case_sensitive_headers": (
        "Idempotency-Key read in one spelling only",
        "accepted_requests_are_queued or sqs_failure_rolls_back",
    ),
    # a base64 body refused with 400, seen on a plain step or on one of two interleaved ones
    "base64_ignored": (
        "isBase64Encoded ignored",
        "answers_are_allowed or a_serial_order_explains_them",
    ),
    "logs_the_event": ("the whole event logged, payload included", "logs_carry_no_payload"),
    "check_then_act_dedupe": (
        "GetItem, then an unconditional PutItem when nothing was found",
        "metadata_never_changes or a_serial_order_explains_them",
    ),
    "condition_failure_as_own": (
        "after a failed PutItem condition, the record re-read is taken for this request's own",
        "a_serial_order_explains_them",
    ),
    "swallowed_store_error": (
        "PutItem errors swallowed: the message is sent for no record",
        "queue_messages_have_records",
    ),
    "content_type_read_exactly": (
        "Content-Type read in one spelling only: KeyError out of the handler",
        "handler_always_answers",
    ),
}
