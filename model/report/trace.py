"""What the HTML report shows, as plain values: one run, and each failing run step by step.

Pure: attrs values and nothing else, no I/O. The shapes stay close to what the state machine
records (its story steps, the injector's attempts, ``STATS``), so filling them is a translation,
and every field has a default so a test builds a ``Report`` from the few fields it is about.
Sequences become tuples and mappings are copied, so a value never changes once built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, get_args

import attrs

Runtime = Literal["python", "node", "command"]
Action = Literal["invoke", "interleave", "fault", "race", "actor", "clear", "liveness"]
AnswerKind = Literal["accepted", "refused", "failed", "crashed"]
MarkKind = Literal["race", "switch"]

# The injector's kinds, in the order the heatmap's columns show them (tests/report checks that they
# match ``model.core.plans``; this package does not import the core, see the import contracts).
FAULT_KINDS = (
    "throttle",
    "server_error",
    "timeout",
    "connection_error",
    "applied_lost",
    "access_denied",
    "crash",
)
RACE_KINDS = ("consumer_advances", "competing_invocation", "record_expires", "record_vanishes")
SERVICE_ERROR = "error:"
"""Prefix of an outcome where the service itself refused the call and nothing was injected:
``error:ValidationException``, ``error:ConditionalCheckFailedException``."""


def _strings(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


def _invocations(items: Iterable[Invocation]) -> tuple[Invocation, ...]:
    return tuple(items)


def _calls(items: Iterable[Call]) -> tuple[Call, ...]:
    return tuple(items)


def _marks(items: Iterable[Mark]) -> tuple[Mark, ...]:
    return tuple(items)


def _steps(items: Iterable[Step]) -> tuple[Step, ...]:
    return tuple(items)


def _failures(items: Iterable[Failure]) -> tuple[Failure, ...]:
    return tuple(items)


def _ints(items: Mapping[str, int]) -> dict[str, int]:
    return dict(items)


def _counts(items: Mapping[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    return dict(items)


def _texts(items: Mapping[str, str]) -> dict[str, str]:
    return dict(items)


def _records(items: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    return {key: dict(value) for key, value in items.items()}


def _messages(items: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(value) for key, value in items.items()}


def _outcome(_: object, __: attrs.Attribute[str], value: str) -> None:
    if value != "passed" and value not in FAULT_KINDS and not value.startswith(SERVICE_ERROR):
        raise ValueError(
            f"outcome {value!r}: 'passed', a fault kind {FAULT_KINDS}, or 'error:<the code>'"
        )


@attrs.frozen
class Call:
    """One attempt of one AWS call, as the injector saw it (a retry is another ``Call``)."""

    by: str
    """The invocation that made it: its ``Invocation.name``."""
    operation: str
    """The operation alone: ``PutItem``."""
    service: str = "dynamodb"
    attempt: int = 1
    outcome: str = attrs.field(default="passed", validator=_outcome)
    """``passed``, the fault injected into this attempt, or ``error:<code>`` when the service
    itself refused it (a failed condition, a validation error) with nothing injected."""

    @classmethod
    def of(cls, by: str, qualified: str, attempt: int = 1, outcome: str = "passed") -> Call:
        """From the injector's spelling: ``Call.of("A", "sqs.SendMessage", 2, "throttle")``."""
        service, _, operation = qualified.partition(".")
        return cls(by, operation, service, attempt, outcome)

    @property
    def name(self) -> str:
        return f"{self.service}.{self.operation}"


@attrs.frozen
class Mark:
    """Something that happened between two calls of a step: another actor acted (a race), or
    one interleaved invocation handed the turn to the other (a switch)."""

    kind: MarkKind
    before_call: int
    """Index into the step's calls: it happened just before that call (``len(calls)``: after
    the last one)."""
    text: str
    actor: str | None = None
    """Who acted: for a race, the actor ("consumer", "TTL expiry", "competing"); for a switch,
    the invocation that takes the turn."""
    records_after: dict[str, dict[str, str]] | None = attrs.field(
        default=None, converter=attrs.converters.optional(_records)
    )
    """The records as the harness observed them right after the race's actor acted, or at the
    switch (None: not observed). The record table shows them as rows of their own, so a status
    the handler drags back shows at a glance."""


@attrs.frozen
class Invocation:
    """One invocation of the handler within a step: what was asked and what it answered."""

    name: str
    """Its lane in the diagram: "invocation 3", "A", "B", "competing", "retry 1"."""
    request: str
    """A one-line summary: ``POST /messages {"type": "order.created", ...}``."""
    answer: str = ""
    """The answer as text (``202 {"messageId": ...}``); empty when it crashed."""
    kind: AnswerKind = "accepted"


@attrs.frozen
class Broken:
    """An invariant a step broke, and what exactly broke (one sentence each)."""

    invariant: str
    problems: tuple[str, ...] = attrs.field(default=(), converter=_strings)


@attrs.frozen
class Step:
    """One step of a failing run, as the story tells it, with what it did to the table and the
    queue. A plan (``fault``, ``race``, ``clear``) has no invocations; an ``actor`` step is
    another party acting on a record outside any invocation."""

    number: int
    action: Action
    text: str
    """The story's line for this step."""
    invocations: tuple[Invocation, ...] = attrs.field(default=(), converter=_invocations)
    calls: tuple[Call, ...] = attrs.field(default=(), converter=_calls)
    """Every AWS call attempt of the step's invocations, in the order they were made."""
    marks: tuple[Mark, ...] = attrs.field(default=(), converter=_marks)
    actor: str | None = None
    """For an ``actor`` step: who acted ("consumer", "another writer", "TTL expiry")."""
    broke: Broken | None = None
    records_after: dict[str, dict[str, str]] = attrs.field(factory=dict, converter=_records)
    """Record id -> attribute -> value as text, after the step; a deleted record is absent."""
    messages_after: dict[str, tuple[str, ...]] = attrs.field(factory=dict, converter=_messages)
    """Record id -> the bodies of the queue's messages for it, after the step."""

    def __attrs_post_init__(self) -> None:
        names = {invocation.name for invocation in self.invocations}
        for call in self.calls:
            if call.by not in names:
                raise ValueError(f"step {self.number}: call by {call.by!r}, not an invocation")
        for mark in self.marks:
            if not 0 <= mark.before_call <= len(self.calls):
                raise ValueError(f"step {self.number}: mark before call {mark.before_call}")


def _story(failure: Failure) -> tuple[str, ...]:
    return tuple(step.text for step in failure.steps)


@attrs.frozen
class Failure:
    """One broken invariant and the shrunk run that broke it."""

    invariant: str
    problems: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    steps: tuple[Step, ...] = attrs.field(default=(), converter=_steps)
    story: tuple[str, ...] = attrs.field(
        default=attrs.Factory(_story, takes_self=True), converter=_strings
    )
    """The numbered story as text; by default the steps' lines."""
    replay: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    """Command lines to copy: the seed's replay, then the scenario file's."""
    scenario_path: str | None = None

    @property
    def broken_step(self) -> Step | None:
        """The step that broke the invariant (the last one that says so)."""
        return next((step for step in reversed(self.steps) if step.broke is not None), None)


@attrs.frozen
class Header:
    """What was verified, and how."""

    handler: str = "reference.handler:lambda_handler"
    pipeline: str | None = None
    """The pipeline file, or None for a handler written to queuecheck's contract."""
    runtime: Runtime = "python"
    backend: str = "moto, in-process"
    checks: str = "queuecheck's contract (DESIGN.md section 1) and its invariants"
    profile: str = "ci"
    settings: str = ""
    """The profile's settings as text: ``max_examples=400, steps per example<=40, ...``."""
    replay: str = ""
    """The seed, or how to replay the run: ``derandomize=True`` or ``--seed 1234``."""
    versions: dict[str, str] = attrs.field(factory=dict, converter=_texts)
    """queuecheck, hypothesis, moto, boto3 -> version."""
    status_attribute: str = "status"
    """The record's status attribute (a pipeline file's ``[table] status``)."""


@attrs.frozen
class Stats:
    """The run's counts, as ``queuecheck verify`` prints them."""

    examples: int = 0
    steps: int = 0
    invocations: int = 0
    seconds: float = 0.0
    invariant_checks: int = 0
    log_lines: int = 0

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else 0.0


def _kinds(counts: Mapping[tuple[str, str], int], known: tuple[str, ...]) -> tuple[str, ...]:
    seen = {kind for _, kind in counts}
    return (*known, *sorted(seen - set(known)))


@attrs.frozen
class Coverage:
    """What was injected over the whole run."""

    faults: dict[tuple[str, str], int] = attrs.field(factory=dict, converter=_counts)
    """(operation, fault kind) -> attempts: ``("dynamodb.PutItem", "throttle") -> 17``."""
    races: dict[tuple[str, str], int] = attrs.field(factory=dict, converter=_counts)
    """(operation the actor acted before, race kind) -> count."""
    interleavings: int = 0
    encodings: dict[str, int] = attrs.field(factory=dict, converter=_ints)
    """Request encoding -> how many requests came in it."""

    @classmethod
    def from_injected(
        cls,
        injected: Mapping[tuple[str, str], int],
        interleavings: int = 0,
        encodings: Mapping[str, int] | None = None,
    ) -> Coverage:
        """From the machine's counter (``STATS.injected``), where a race's kind is
        ``race:<kind>``."""
        faults = {key: n for key, n in injected.items() if not key[1].startswith("race:")}
        races = {
            (op, kind.removeprefix("race:")): n
            for (op, kind), n in injected.items()
            if kind.startswith("race:")
        }
        return cls(faults, races, interleavings, encodings or {})

    @property
    def operations(self) -> tuple[str, ...]:
        return tuple(sorted({op for op, _ in [*self.faults, *self.races]}))

    @property
    def fault_kinds(self) -> tuple[str, ...]:
        return _kinds(self.faults, FAULT_KINDS)

    @property
    def race_kinds(self) -> tuple[str, ...]:
        return _kinds(self.races, RACE_KINDS)


def _rules(items: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((name, rule) for name, rule in items)


@attrs.frozen
class Report:
    """One run of ``queuecheck verify``: PASS when nothing broke, else its failures."""

    header: Header = Header()
    stats: Stats = Stats()
    invariants: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_rules)
    """(name, the rule in one sentence), in the order they are checked."""
    coverage: Coverage = Coverage()
    failures: tuple[Failure, ...] = attrs.field(default=(), converter=_failures)
    """One per distinct invariant broken, the shallowest (fewest steps) first."""

    @property
    def verdict(self) -> Literal["PASS", "FAIL"]:
        return "FAIL" if self.failures else "PASS"


ACTIONS: tuple[str, ...] = get_args(Action)
ANSWER_KINDS: tuple[str, ...] = get_args(AnswerKind)
