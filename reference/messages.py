"""Value objects of the intake. They know nothing of DynamoDB's or SQS's wire shapes."""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import attrs


class Status(enum.StrEnum):
    PENDING = "PENDING"
    QUEUED = "QUEUED"
    PROCESSING = "PROCESSING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


def canonical_json(value: Any) -> str:
    """One text per JSON value, so equal content always hashes, stores and compares equal."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(type_: str, payload: dict[str, Any], attributes: dict[str, str] | None) -> str:
    """SHA-256 of the canonical ``{type, payload, attributes}``: the deduplication fingerprint."""
    content = {"type": type_, "payload": payload, "attributes": attributes or {}}
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def iso_millis(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, the one timestamp format of the record."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


@attrs.frozen
class Submission:
    """A validated ``POST /messages`` request: everything the pipeline needs, nothing more."""

    message_id: str
    type: str
    payload: dict[str, Any]
    attributes: dict[str, str] | None
    payload_hash: str

    @property
    def payload_json(self) -> str:
        return canonical_json(self.payload)

    def queue_body(self) -> str:
        """The SQS message body: what was submitted, in canonical JSON."""
        return canonical_json(
            {
                "messageId": self.message_id,
                "type": self.type,
                "payload": self.payload,
                "attributes": self.attributes or {},
            }
        )


@attrs.frozen
class Record:
    """A stored message as the pipeline reads it back (from ``ALL_OLD`` or ``GetItem``)."""

    message_id: str
    status: Status | str
    payload_hash: str
    type: str = ""
    created_at: str = ""
    updated_at: str = ""
    queued_at: str | None = None
    ttl: int | None = None

    def public_view(self) -> dict[str, Any]:
        """What ``GET /messages/{id}`` shows: identity, status and timestamps, never content."""
        view: dict[str, Any] = {
            "messageId": self.message_id,
            "type": self.type,
            "status": str(self.status),
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }
        if self.queued_at:
            view["queuedAt"] = self.queued_at
        return view

    @property
    def is_pending(self) -> bool:
        return self.status == Status.PENDING
