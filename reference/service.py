"""The intake's steps in order, over a store and a queue: no boto3 here.

Order matters: the message is sent before the status moves to QUEUED. A crash between the
two leaves a PENDING record whose message is already queued, which a retry resumes; the
other order could leave a QUEUED record whose message was never sent, which nothing detects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import attrs

from reference import errors
from reference.failures import DependencyError, QueueError, StoreError
from reference.logs import log
from reference.messages import Record, Status, Submission


class Store(Protocol):
    def put_pending(
        self, submission: Submission, now: datetime, ttl_seconds: int, request_id: str | None
    ) -> Record | None: ...

    def mark_queued(
        self, submission: Submission, sqs_message_id: str, now: datetime
    ) -> Record | None: ...

    def note_enqueue_failure(self, submission: Submission, error: str, now: datetime) -> None: ...

    def get(self, message_id: str) -> Record | None: ...


class Queue(Protocol):
    def send(self, submission: Submission) -> str: ...


@attrs.frozen
class Accepted:
    """A successful submit: 202 for a message queued now, 200 for a replayed duplicate."""

    message_id: str
    status: str
    duplicate: bool

    @property
    def http_status(self) -> int:
        return 200 if self.duplicate else 202


def _failure(exc: DependencyError) -> errors.ApiError:
    return errors.unavailable() if exc.retryable else errors.internal()


@attrs.define
class Intake:
    store: Store
    queue: Queue
    clock: Callable[[], datetime]
    ttl_seconds: int
    request_id: str | None = None

    def submit(self, submission: Submission) -> Accepted:
        message_id = submission.message_id
        context: dict[str, Any] = {"requestId": self.request_id, "messageId": message_id}
        try:
            existing = self.store.put_pending(
                submission, self.clock(), self.ttl_seconds, self.request_id
            )
        except StoreError as exc:
            log("store", "failed", logging.ERROR, awsError=exc.aws_code, **context)
            raise _failure(exc) from exc
        if existing is not None:
            if existing.payload_hash != submission.payload_hash:
                log("store", "conflict", **context)
                raise errors.idempotency_conflict()
            if not existing.is_pending:
                log("store", "duplicate", status=str(existing.status), **context)
                return Accepted(message_id, str(existing.status), duplicate=True)
            log("store", "resuming", **context)
        else:
            log("store", "stored", **context)

        try:
            sqs_message_id = self.queue.send(submission)
        except QueueError as exc:
            log("queue", "failed", logging.ERROR, awsError=exc.aws_code, **context)
            self._note_enqueue_failure(submission, exc, context)
            raise _failure(exc) from exc
        log("queue", "sent", sqsMessageId=sqs_message_id, **context)

        try:
            current = self.store.mark_queued(submission, sqs_message_id, self.clock())
        except StoreError as exc:
            log("status", "failed", logging.ERROR, awsError=exc.aws_code, **context)
            raise _failure(exc) from exc
        if current is None or current.status == Status.PENDING:
            # Gone, or replaced by other content after expiry: a retry starts over cleanly.
            log("status", "record changed underneath", logging.WARNING, **context)
            raise errors.unavailable()
        log("status", "queued", status=str(current.status), **context)
        return Accepted(message_id, str(current.status), duplicate=False)

    def _note_enqueue_failure(
        self, submission: Submission, exc: QueueError, context: dict[str, Any]
    ) -> None:
        try:
            self.store.note_enqueue_failure(
                submission, f"{exc.operation}: {exc.aws_code}", self.clock()
            )
        except StoreError as note_exc:
            log(
                "rollback",
                "bookkeeping failed",
                logging.WARNING,
                awsError=note_exc.aws_code,
                **context,
            )

    def view(self, message_id: str) -> Record:
        """The record, unless it is missing or expired (expired items linger until deleted)."""
        try:
            record = self.store.get(message_id)
        except StoreError as exc:
            log("get", "failed", logging.ERROR, awsError=exc.aws_code, requestId=self.request_id)
            raise _failure(exc) from exc
        if record is None or (
            record.ttl is not None and record.ttl < int(self.clock().timestamp())
        ):
            raise errors.not_found()
        return record
