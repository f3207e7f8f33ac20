"""The static check of a scenario: the model walked over its steps before anything runs.

Invalid requests and calm steps (no fault or race planned) have exactly one allowed answer;
a scenario that expects another contradicts the model and is rejected with the reason.
Pure: it imports only the model's core and the parsed format.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from model.core import contract, lifecycle
from model.core.contract import Content, Lookup, Rejection, Submission
from model.core.lifecycle import Status
from model.core.observed import Snapshot
from model.core.outcomes import CRASH, Disturbance, Outcome, allowed
from model.core.plans import FaultKind, RaceKind
from model.scenarios.format import FIX, Actor, ModelContradiction, Scenario, Step, read

# -- the static check: the model, walked over the scenario -------------------------------

NOW = 2_000_000_000
"""The static model's clock: it only asks whether a ttl has passed, never what time it is."""


@attrs.frozen
class Known:
    """What the model knows of one messageId between steps (absent, with no message, at first)."""

    present: bool = False
    status: Status | None = None
    expired: bool = False
    content: Content | None = None
    messages: int | None = 0
    """Queue messages for the id; None when a fault or race left the count open."""
    basis: int | None = None
    """The step whose stated expectations this knowledge rests on (None: the model alone)."""

    def snapshot(self, message_id: str) -> Snapshot:
        if not self.present:
            return Snapshot({}, (), NOW)
        ttl = NOW - 1 if self.expired else NOW + 1
        return Snapshot({message_id: {"status": str(self.status), "ttl": ttl}}, (), NOW)

    def describe(self, message_id: str, request: Any = None) -> str:
        if not self.present:
            return f"no record {message_id}"
        if self.expired:
            return f"record {message_id} {self.status} but expired"
        same = ""
        if isinstance(request, Submission) and self.content is not None:
            equal = self.content.fingerprint() == request.content.fingerprint()
            same = ", same content" if equal else ", other content than this request"
        return f"record {message_id} {self.status}{same}"


def _basis(state: Known) -> str:
    return "" if state.basis is None else f", taking step {state.basis}'s expectations as given"


def describe_outcomes(outcomes: Iterable[Outcome]) -> str:
    return " or ".join(sorted(outcome.describe() for outcome in outcomes))


@attrs.define
class ModelWalk:
    """Walks a scenario with the model alone, keeping what it can know of each record.

    A step with no fault or race planned has exactly one allowed outcome, which decides the
    state after it. After a step a fault or race may disturb, the state is only known where the
    scenario itself states it (``expect.record.status`` / ``exists``, ``expect.queue.messages``):
    the run checks those statements, so the walk may build on them.
    """

    states: dict[str, Known | None] = attrs.Factory(dict)
    kinds: set[FaultKind] = attrs.Factory(set)
    races: set[RaceKind] = attrs.Factory(set)
    after: dict[int, Known | None] = attrs.Factory(dict)
    """What the model alone decides of each step's record after the step (None: it cannot)."""

    @property
    def armed(self) -> bool:
        return bool(self.kinds) or bool(self.races)

    def planned(self) -> str:
        names = sorted(str(kind) for kind in self.kinds) + sorted(
            f"a race ({race})" for race in self.races
        )
        return f"with {', '.join(names)} planned" if names else "with no fault or race planned"

    def walk(self, scenario: Scenario) -> None:
        for step in scenario.steps:
            derived = self.visit(step)
            if step.target is not None:
                state = self.states.get(step.target, Known()) if derived else None
                self.after[step.number] = state
                if state is not None:
                    self.compare(step, state)

    def visit(self, step: Step) -> bool:
        """Apply one step; True if the state after it follows from the model alone."""
        if step.fault is not None:
            self.kinds.add(step.fault.kind)
        elif step.race is not None:
            self.races.add(step.race.kind)
        elif step.action == "clear faults":
            self.kinds.clear()
            self.races.clear()
        elif step.actor is not None:
            return self.act(step)
        elif step.request is not None:
            return self.invoke(step)
        elif step.pair is not None:
            return self.interleave(step)
        return True

    def interleave(self, step: Step) -> bool:
        """Two submissions of one id, interleaved: a serial order explains them, so the record
        ends as either order leaves it; the message count stays open (at-least-once)."""
        assert step.pair is not None
        first, second = (contract.judge(request.event("scenario")) for request in step.pair)
        assert isinstance(first, Submission) and isinstance(second, Submission)
        message_id = first.message_id
        before = self.states.get(message_id, Known())
        if before is None:
            return False
        live = before.present and not before.expired
        fingerprints = {first.content.fingerprint(), second.content.fingerprint()}
        if live and before.content is not None:
            stored = before.content.fingerprint()
            if stored not in fingerprints or lifecycle.at_least_queued(before.status):
                return True  # each a conflict or a duplicate: nothing changes
            self.states[message_id] = attrs.evolve(before, status=Status.QUEUED, messages=None)
            return True  # the one with the stored content resumes the PENDING record
        if len(fingerprints) == 1:
            self.states[message_id] = Known(
                True, Status.QUEUED, False, first.content, None, before.basis
            )
            return True
        self.states[message_id] = None  # which content won is the run's to say
        return False

    def invoke(self, step: Step) -> bool:
        assert step.request is not None
        request = contract.judge(step.request.event("scenario"))
        if isinstance(request, Rejection):
            self.require(
                step, {Outcome(request.status, request.code)}, "this request is invalid, so"
            )
            return True
        message_id = request.message_id
        before = self.states.get(message_id, Known())
        if before is None:  # unknown it stays: pin() needs the state before the step
            return False
        stored = before.content if before.present and not before.expired else None
        snapshot = before.snapshot(message_id)
        permitted = set(allowed(request, snapshot, stored, Disturbance()))
        if self.armed:
            others = frozenset(self.kinds - {FaultKind.CRASH})
            permitted |= allowed(
                request, snapshot, stored, Disturbance(others, frozenset(self.races))
            )
            if FaultKind.CRASH in self.kinds:
                permitted.add(Outcome(None, CRASH))
        known = before.describe(message_id, request) + _basis(before)
        situation = f"after the steps before it ({known}) {self.planned()},"
        self.require(step, permitted, situation)
        if isinstance(request, Lookup):
            if self.races:
                self.states[message_id] = None
            return not self.races
        if self.armed:
            self.states[message_id] = self.pin(step, request, before)
            return False
        (outcome,) = permitted
        if outcome.status == 202:
            live = before.present and not before.expired
            messages = None if before.messages is None else before.messages + 1
            content = before.content if live else request.content
            self.states[message_id] = Known(
                True, Status.QUEUED, False, content, messages, before.basis
            )
        return True

    def pin(self, step: Step, request: Submission, before: Known | None) -> Known | None:
        """The state after a disturbed step, from what the scenario says of it (None: unknown)."""
        record, queue = step.expect.record, step.expect.queue
        messages = queue.messages if queue is not None else None
        if record is not None and record.exists is False:
            return Known(False, messages=messages, basis=step.number)
        if record is None or record.status is None or before is None:
            return None
        if before.present and before.expired:
            return None  # replaced, or left expired: the scenario does not say which
        content = request.content
        if before.present:
            assert before.content is not None
            if self.races and before.content.fingerprint() != content.fingerprint():
                return None
            content = before.content
        return Known(True, Status(record.status), False, content, messages, step.number)

    def act(self, step: Step) -> bool:
        actor = step.actor
        assert actor is not None
        before = self.states.get(actor.message_id, Known())
        if before is None:
            return False
        if actor.who == "expiry" and before.present:
            self.states[actor.message_id] = attrs.evolve(before, expired=True)
        elif actor.who == "deletion" and before.present:
            self.states[actor.message_id] = Known(
                False, messages=before.messages, basis=before.basis
            )
        elif actor.who == "consumer":
            return self.consume(step, actor, before)
        return True

    def consume(self, step: Step, actor: Actor, before: Known) -> bool:
        if before.messages is None:
            self.states[actor.message_id] = None
            return False
        if not before.present or before.messages == 0 or before.status is None:
            raise ModelContradiction(
                step.where,
                f"the consumer has nothing to act on ({before.describe(actor.message_id)}, "
                f"{before.messages} message(s)): a consumer only moves a record whose message it "
                "received. Move this step after the message is sent.",
            )
        following = lifecycle.TRANSITIONS[before.status]
        wanted = [actor.status] if actor.status else [Status.PROCESSING, Status.DELIVERED]
        new = next((status for status in wanted if status in following), None)
        if new is None:
            allowed_next = ", ".join(sorted(following)) or "nothing (it is final)"
            raise ModelContradiction(
                step.where,
                f"the consumer cannot move {actor.message_id} from {before.status} to "
                f"{actor.status or 'a next status'}: the lifecycle allows {before.status} -> "
                f"{allowed_next}",
            )
        self.states[actor.message_id] = attrs.evolve(before, status=new)
        return True

    def require(self, step: Step, permitted: Iterable[Outcome], situation: str) -> None:
        permitted = set(permitted)
        expected = step.expect.answer
        if expected.empty or any(expected.matches(outcome) for outcome in permitted):
            return
        raise ModelContradiction(
            step.where,
            f"the scenario contradicts the model: it expects {expected.describe()}, but "
            f"{situation} the model allows only {describe_outcomes(permitted)}. {FIX}",
        )

    def compare(self, step: Step, state: Known) -> None:
        """Record and queue expectations must agree with a state the model decided alone."""
        message_id, record, queue = step.target, step.expect.record, step.expect.queue
        problems = []
        if record is not None:
            if record.exists is not None and record.exists != state.present:
                problems.append(f"expects the record {'to' if record.exists else 'not to'} exist")
            if record.status is not None and (not state.present or record.status != state.status):
                problems.append(f"expects record status {record.status}")
        counted = queue.messages if queue is not None else None
        if counted is not None and state.messages is not None and counted != state.messages:
            problems.append(f"expects {counted} queue message(s) for {message_id}")
        if problems:
            raise ModelContradiction(
                step.where,
                f"the scenario contradicts the model: it {' and '.join(problems)}, but "
                f"{self.planned()} the model leaves {state.describe(str(message_id))} and "
                f"{state.messages} message(s) for it{_basis(state)}. Fix the expectation.",
            )


def check(scenario: Scenario) -> ModelWalk:
    """Check every expectation the model can decide without running anything. (A pipeline
    scenario's intake has no exact model of answers: its run checks what the file says.)"""
    walk = ModelWalk()
    if scenario.pipeline is None:
        walk.walk(scenario)
    return walk


def load(path: str | Path) -> Scenario:
    """Read, validate and check against the model one scenario file."""
    scenario = read(path)
    check(scenario)
    return scenario
