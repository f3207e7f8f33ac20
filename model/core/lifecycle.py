"""Statuses of a message record and the only ways they may change."""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    PENDING = "PENDING"
    QUEUED = "QUEUED"
    PROCESSING = "PROCESSING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


# The intake moves PENDING -> QUEUED; consumers move on from there. Nothing ever goes back.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.QUEUED, Status.PROCESSING}),
    Status.QUEUED: frozenset({Status.PROCESSING}),
    Status.PROCESSING: frozenset({Status.DELIVERED, Status.FAILED}),
    Status.DELIVERED: frozenset(),
    Status.FAILED: frozenset(),
}

# A status update may change these attributes and nothing else (DESIGN.md section 1).
STATUS_UPDATE_FIELDS = frozenset(
    {"status", "updatedAt", "queuedAt", "sqsMessageId", "version", "lastError", "enqueueAttempts"}
)
# Attributes the record must carry from creation on.
CREATION_FIELDS = frozenset(
    {
        "messageId",
        "type",
        "payload",
        "payloadHash",
        "status",
        "createdAt",
        "updatedAt",
        "ttl",
        "version",
    }
)


def parse(value: object) -> Status | None:
    """The status named by a stored value, or None for anything the contract does not know."""
    if not isinstance(value, str):
        return None
    try:
        return Status(value)
    except ValueError:
        return None


def reachable(old: Status, new: Status) -> bool:
    """Whether ``new`` can follow ``old`` through zero or more allowed transitions."""
    seen, frontier = {old}, [old]
    while frontier:
        for following in TRANSITIONS[frontier.pop()]:
            if following not in seen:
                seen.add(following)
                frontier.append(following)
    return new in seen


def at_least_queued(status: Status | None) -> bool:
    return status is not None and status is not Status.PENDING
