"""The answers a correct handler may give to a request, given what was stored and what went wrong.

Without faults or races the answer is determined. A fault that may or may not have been
absorbed (the SDK retried, the request was applied but the response lost) makes more than
one answer correct, so the model returns a set and the harness checks membership.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from model.core import lifecycle
from model.core.contract import Content, Lookup, Rejection, Submission
from model.core.observed import Answer, Snapshot
from model.core.plans import FaultKind, RaceKind

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
    """What went wrong during one invocation: injected fault kinds and the races that ran."""

    kinds: frozenset[FaultKind] = frozenset()
    races: frozenset[RaceKind] = frozenset()

    @classmethod
    def of(cls, injected: Iterable[tuple[str, str]]) -> Disturbance:
        kinds, races = set(), set()
        for _operation, kind in injected:
            if kind.startswith("race:"):
                races.add(RaceKind(kind.removeprefix("race:")))
            else:
                kinds.add(FaultKind(kind))
        return cls(frozenset(kinds), frozenset(races))

    @property
    def raced(self) -> bool:
        return bool(self.races)

    @property
    def calm(self) -> bool:
        return not self.kinds and not self.races


def _failures(disturbance: Disturbance) -> set[Outcome]:
    """SYSTEM_ERROR answers the faults may cause: 503 when retrying may help, 500 when not.
    A race alone causes none but the one ``RACE_OUTCOMES`` names."""
    failures = set()
    if any(kind.retryable for kind in disturbance.kinds):
        failures.add(Outcome(503, "SYSTEM_ERROR"))
    if FaultKind.ACCESS_DENIED in disturbance.kinds:
        failures.add(Outcome(500, "SYSTEM_ERROR"))
    return failures


QUEUED_NOW = Outcome(202, None, False)
DUPLICATE = Outcome(200, None, True)
# What each race may add to the answers of a calm world (DESIGN.md 1, steps 2 and 4):
RACE_OUTCOMES: dict[RaceKind, frozenset[Outcome]] = {
    # the consumer got the message first and moved the record on: the conditional update
    # fails on a record QUEUED or later, which is success with its current status (202); or
    # the PutItem of a resumption finds it moved on, a duplicate (200)
    RaceKind.CONSUMER_ADVANCES: frozenset({QUEUED_NOW, DUPLICATE}),
    # the same request finished first: this one finds its record QUEUED at the PutItem (200)
    # or at the conditional update (202)
    RaceKind.COMPETING_INVOCATION: frozenset({QUEUED_NOW, DUPLICATE}),
    # the record's ttl passed: the PutItem may replace it (202), the update still finds it
    # PENDING (202)
    RaceKind.RECORD_EXPIRES: frozenset({QUEUED_NOW}),
    # the record was deleted: a PutItem creates it anew (202); an update finds nothing to
    # mark, and the retry that must start over is told to come back (503)
    RaceKind.RECORD_VANISHES: frozenset({QUEUED_NOW, Outcome(503, "SYSTEM_ERROR")}),
}
# Races that change what a record holds, so a conflict before them may not be one after.
REPLACING_RACES = frozenset({RaceKind.RECORD_EXPIRES, RaceKind.RECORD_VANISHES})


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
        if disturbance.raced:  # lookups call none of the raced operations; allow both views
            base |= {Outcome(200), Outcome(404, "NOT_FOUND")}
        return frozenset(base | _failures(disturbance))
    record_id = request.message_id
    conflict = (
        before.live(record_id)
        and stored_content is not None
        and stored_content.fingerprint() != request.content.fingerprint()
    )
    if not before.live(record_id):
        base = {QUEUED_NOW}
    elif conflict:
        base = {Outcome(409, "IDEMPOTENCY_CONFLICT")}
    elif lifecycle.at_least_queued(before.status(record_id)):
        base = {DUPLICATE}
    else:
        base = {QUEUED_NOW}
    # After a replacing race the stored content is no longer known: a conflict may be gone,
    # and then every race of the invocation allows what it allows without one.
    replaced = bool(disturbance.races & REPLACING_RACES)
    for race in disturbance.races:
        if not conflict or replaced:
            base |= RACE_OUTCOMES[race]
    return frozenset(base | _failures(disturbance))
