"""The answers a correct handler may give to a request, given what was stored and what went wrong.

Without faults or races the answer is determined. A fault that may or may not have been
absorbed (the SDK retried, the request was applied but the response lost) makes more than
one answer correct, so the model returns a set and the harness checks membership.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from model import lifecycle
from model.contract import Content, Lookup, Rejection, Submission
from model.observed import Answer, Snapshot
from model.plans import FaultKind

CRASH = "CRASH"


@attrs.frozen
class Outcome:
    """One allowed answer: HTTP status, error code (None on success), the duplicate flag."""

    status: int | None
    code: str | None = None
    duplicate: bool | None = None

    def describe(self) -> str:
        if self.code == CRASH:
            return "no answer (crash)"
        if self.code is None:
            flag = f" duplicate={str(self.duplicate).lower()}" if self.duplicate is not None else ""
            return f"{self.status}{flag}"
        return f"{self.status} {self.code}"


def outcome_of(answer: Answer) -> Outcome:
    if answer.crashed:
        return Outcome(None, CRASH)
    if answer.ok:
        duplicate = answer.body.get("duplicate") if isinstance(answer.body, dict) else None
        return Outcome(answer.status, None, duplicate if isinstance(duplicate, bool) else None)
    return Outcome(answer.status, answer.code)


@attrs.frozen
class Disturbance:
    """What went wrong during one invocation: injected fault kinds and whether a race ran."""

    kinds: frozenset[FaultKind] = frozenset()
    raced: bool = False

    @classmethod
    def of(cls, injected: Iterable[tuple[str, str]]) -> Disturbance:
        kinds, raced = set(), False
        for _operation, kind in injected:
            if kind.startswith("race:"):
                raced = True
            else:
                kinds.add(FaultKind(kind))
        return cls(frozenset(kinds), raced)

    @property
    def calm(self) -> bool:
        return not self.kinds and not self.raced


def _failures(disturbance: Disturbance) -> set[Outcome]:
    """SYSTEM_ERROR answers a disturbance may cause: 503 when retrying may help, 500 when not."""
    failures = set()
    if disturbance.raced or any(kind.retryable for kind in disturbance.kinds):
        failures.add(Outcome(503, "SYSTEM_ERROR"))
    if disturbance.raced or FaultKind.ACCESS_DENIED in disturbance.kinds:
        failures.add(Outcome(500, "SYSTEM_ERROR"))
    return failures


def allowed(
    request: Submission | Lookup | Rejection,
    before: Snapshot,
    stored_content: Content | None,
    disturbance: Disturbance,
) -> frozenset[Outcome]:
    """Every answer a correct handler may give.

    ``stored_content`` is what the model knows the live record for this id to hold (None if
    it knows of none). Same fingerprint means same content: absent attributes count as ``{}``.
    """
    if isinstance(request, Rejection):
        return frozenset({Outcome(request.status, request.code)})
    if FaultKind.CRASH in disturbance.kinds:
        return frozenset({Outcome(None, CRASH)})
    if isinstance(request, Lookup):
        found = before.live(request.message_id)
        base = {Outcome(200) if found else Outcome(404, "NOT_FOUND")}
        return frozenset(base | _failures(disturbance))
    record_id = request.message_id
    if not before.live(record_id):
        base = {Outcome(202, None, False)}
    elif (
        stored_content is not None and stored_content.fingerprint() != request.content.fingerprint()
    ):
        base = {Outcome(409, "IDEMPOTENCY_CONFLICT")}
    elif lifecycle.at_least_queued(before.status(record_id)):
        base = {Outcome(200, None, True)}
    else:
        base = {Outcome(202, None, False)}
    if disturbance.raced:
        # Another actor may have finished the same request first, or moved the record on.
        base |= {Outcome(202, None, False), Outcome(200, None, True)}
    return frozenset(base | _failures(disturbance))
