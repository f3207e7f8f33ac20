"""What can go wrong at one AWS call: fault kinds, their durations, and races, as plain values.

Pure data, shared by the model (which reasons about what a fault allows) and the injector
(which makes it happen); it imports no AWS library.
"""

from __future__ import annotations

import enum

import attrs

OPERATIONS = ("dynamodb.PutItem", "dynamodb.UpdateItem", "dynamodb.GetItem", "sqs.SendMessage")


class FaultKind(enum.StrEnum):
    THROTTLE = "throttle"
    """The service's own throttling error: retryable, never applied."""
    SERVER_ERROR = "server_error"
    """A 5xx: retryable, never applied."""
    TIMEOUT = "timeout"
    """A connect timeout: the request never reached the service."""
    CONNECTION_ERROR = "connection_error"
    """The connection failed before the request was sent."""
    APPLIED_LOST = "applied_lost"
    """The service applied the request, then the response was lost (a read timeout)."""
    ACCESS_DENIED = "access_denied"
    """A non-retryable error: the function may not do this."""
    CRASH = "crash"
    """The invocation dies at this call (a Lambda timeout): no response at all, not applied."""

    @property
    def retryable(self) -> bool:
        return self not in (FaultKind.ACCESS_DENIED, FaultKind.CRASH)


@attrs.frozen
class Fault:
    """Fail the matching attempts of one operation.

    ``after`` matching attempts go through untouched first; then ``times`` attempts fail
    (``None``: every one after that, "always"). Attempts count SDK retries, so ``times=1``
    of a retryable kind is absorbed by the SDK, while ``times=None`` outlasts it.
    """

    operation: str
    kind: FaultKind
    times: int | None = 1
    after: int = 0

    def describe(self) -> str:
        how_long = "always" if self.times is None else f"{self.times}x"
        skip = f" after {self.after} attempt(s)" if self.after else ""
        return f"{self.kind} on {self.operation} {how_long}{skip}"


class RaceKind(enum.StrEnum):
    CONSUMER_ADVANCES = "consumer_advances"
    """A downstream consumer moves the record to PROCESSING (from PENDING or QUEUED)."""
    COMPETING_INVOCATION = "competing_invocation"
    """A second invocation of the same request runs to completion first."""
    RECORD_EXPIRES = "record_expires"
    """The record's ``ttl`` passes: still readable, and replaceable."""
    RECORD_VANISHES = "record_vanishes"
    """DynamoDB's TTL sweeper deletes the record."""


@attrs.frozen
class Race:
    """Just before the ``after``-th (0-based) attempt of ``operation``, another actor acts."""

    operation: str
    kind: RaceKind
    after: int = 0

    def describe(self) -> str:
        return f"{self.kind} before {self.operation} attempt #{self.after + 1}"


@attrs.frozen
class Switches:
    """How many AWS calls each invocation makes before handing the turn to the other, in turn,
    starting with the first; once they run out, whoever holds the turn runs to the end."""

    calls: tuple[int, ...]

    def describe(self) -> str:
        names = ("A", "B")
        parts = [
            f"{names[i % 2]} makes {n} call{'s' if n != 1 else ''}"
            for i, n in enumerate(self.calls)
        ]
        return ", then ".join(parts) + ", then each runs to its end"
