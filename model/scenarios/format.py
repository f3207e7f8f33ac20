"""Scenario files, read: the format of ``scenarios/*.toml`` as frozen values, and the checks
that reject a malformed file with a message naming the file, the step and the fix.

One format for every intake. Without a ``pipeline`` key a scenario speaks queuecheck's contract
(requests as API Gateway events, answers with codes, records with the contract's fields). With
``pipeline = "intake.toml"`` it speaks that pipeline file's words: a submission is an id and a
content, an invalid request is named by what is wrong with it, an answer is accepted, refused,
failed or crashed, and a record's status is one of the file's.

Pure: it imports only the model's core, so a scenario can be read and checked without moto.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from model.core import contract
from model.core.contract import ERROR_STATUSES, Lookup, Submission
from model.core.events import api_event, get_event
from model.core.lifecycle import Status
from model.core.observed import Answer
from model.core.outcomes import CRASH, Outcome
from model.core.plans import OPERATIONS, Fault, FaultKind, Race, RaceKind, Switches
from model.core.spec import Pipeline, PipelineFileError
from model.core.spec import load as load_pipeline

INVOKING = ("submit", "get", "retry")
ACTIONS = (*INVOKING, "interleave", "plan fault", "plan race", "another actor", "clear faults")
ACTORS = ("consumer", "writer", "expiry", "deletion")
PIPELINE_ACTORS = ("consumer", "writer")
PIPELINE_RACES = ("consumer_advances", "competing_invocation")
ANSWER_KINDS = ("accepted", "refused", "failed", "crashed")
_OPERATION = re.compile(r"^[a-z0-9-]+\.[A-Z][A-Za-z0-9]+\Z")
ALWAYS = "always"
STATUSES = tuple(status.value for status in Status)
FAULT_KINDS = tuple(kind.value for kind in FaultKind)
RACE_KINDS = tuple(kind.value for kind in RaceKind)
STORY_LINES = 10
FIX = "Fix the expectation (or, if the model is what is wrong, model/core/outcomes.py)."


# -- errors ----------------------------------------------------------------------------


class ScenarioError(Exception):
    """Something is wrong at one place of a scenario: ``where`` names the file and the step."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}:{'' if problem.startswith(chr(10)) else ' '}{problem}")
        self.where = where
        self.problem = problem


class ScenarioFormatError(ScenarioError, ValueError):
    """The file is not a valid scenario; the message says what to change."""


class ModelContradiction(ScenarioError, AssertionError):
    """The scenario expects what the model says a correct handler must not do."""


class ScenarioFailed(ScenarioError, AssertionError):
    """The handler did not do what the scenario expects, or broke an invariant of the model."""


# -- the parsed format -----------------------------------------------------------------


@attrs.frozen
class Request:
    """What an invocation sends, as the file says it; ``event`` builds the API Gateway event."""

    message: dict[str, Any] | None = None
    body: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    base64: bool = False
    pad_body_to: int | None = None
    method: str = "POST"
    path: str = "/messages"
    raw_event: dict[str, Any] | None = None
    lookup: str | None = None

    def event(self, request_id: str) -> dict[str, Any]:
        """The event API Gateway would hand the handler; built afresh for every (re)try."""
        if self.raw_event is not None:
            return copy.deepcopy(self.raw_event)
        if self.lookup is not None:
            return get_event(self.lookup, request_id=request_id)
        text = json.dumps(self.message) if self.message is not None else self.body or ""
        if self.pad_body_to is not None:  # JSON allows trailing blanks: same document, bigger body
            text += " " * max(0, self.pad_body_to - len(text.encode("utf-8")))
        headers = dict(self.headers)
        if not any(name.lower() == "content-type" for name in headers):
            headers = {"Content-Type": "application/json", **headers}
        parts = [part for part in self.path.split("/") if part]
        by_id = len(parts) == 2 and parts[0] == "messages"
        event = api_event(
            self.method,
            self.path,
            text,
            headers,
            request_id=request_id,
            path_parameters={"messageId": parts[1]} if by_id else None,
        )
        event["isBase64Encoded"] = self.base64  # the body is sent exactly as written
        return event


@attrs.frozen
class Actor:
    """Someone other than the handler touches a record between two invocations."""

    who: str
    message_id: str
    status: Status | None = None
    """Where a consumer moves the record; None: on by one step (PROCESSING, else DELIVERED)."""
    attribute: str = "note"
    value: str = "added by another writer"

    def describe(self) -> str:
        return {
            "consumer": f"a consumer moves {self.message_id} to {self.status or 'its next status'}",
            "writer": f"another writer sets {self.attribute} on {self.message_id}",
            "expiry": f"the ttl of {self.message_id} passes",
            "deletion": f"DynamoDB's TTL sweeper deletes {self.message_id}",
        }[self.who]


@attrs.frozen
class AnswerExpectation:
    """What the handler must answer; every field left out is not checked."""

    status: int | None = None
    code: str | None = None
    duplicate: bool | None = None
    crashed: bool | None = None
    reported_status: str | None = None
    retry_after: bool | None = None
    kind: str | None = None
    """A pipeline scenario's answer: accepted, refused, failed or crashed."""

    @property
    def empty(self) -> bool:
        return self == AnswerExpectation()

    def matches(self, outcome: Outcome) -> bool:
        """Whether an outcome the model allows fits this expectation (headers aside)."""
        crashed = outcome.code == CRASH
        if self.crashed is not None and self.crashed != crashed:
            return False
        if crashed:
            return self.status is None and self.code is None and self.duplicate is None
        return (
            (self.status is None or self.status == outcome.status)
            and (self.code is None or self.code == outcome.code)
            and (self.duplicate is None or self.duplicate == outcome.duplicate)
        )

    def differs(self, answer: Answer) -> bool:
        body = answer.body if isinstance(answer.body, dict) else {}
        checks = [
            (self.crashed, answer.crashed),
            (self.status, answer.status),
            (self.code, answer.code),
            (self.duplicate, body.get("duplicate")),
            (self.reported_status, body.get("status")),
            (self.retry_after, "retry-after" in answer.headers),
        ]
        return any(expected is not None and expected != actual for expected, actual in checks)

    def describe(self) -> str:
        if self.crashed:
            return "no answer (the invocation crashes)"
        if self.kind is not None:
            status = f" ({self.status})" if self.status is not None else ""
            return f"{self.kind}{status}"
        parts = [str(self.status) if self.status is not None else "an answer"]
        parts += [self.code] if self.code else []
        parts += [f"duplicate={str(self.duplicate).lower()}"] if self.duplicate is not None else []
        parts += [f"reporting {self.reported_status}"] if self.reported_status else []
        if self.retry_after is not None:
            parts.append("with Retry-After" if self.retry_after else "without Retry-After")
        return " ".join(parts)


@attrs.frozen
class RecordExpectation:
    """What one stored record must look like; ``*_since`` are step numbers, resolved when read."""

    exists: bool | None = None
    status: str | None = None
    fields: Mapping[str, Any] = attrs.field(factory=dict)
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    unchanged_since: int | None = None
    metadata_unchanged_since: int | None = None


@attrs.frozen
class QueueExpectation:
    """How many messages the queue holds (for the step's record, in all) and what they carry."""

    messages: int | None = None
    total: int | None = None
    body: Mapping[str, Any] | None = None


@attrs.frozen
class Expectation:
    """What must hold after a step: the answer, one record, the queue, the table's size."""

    answer: AnswerExpectation = AnswerExpectation()
    record: RecordExpectation | None = None
    queue: QueueExpectation | None = None
    stored: int | None = None
    competitor: AnswerExpectation | None = None


@attrs.frozen
class Sent:
    """A valid request to an intake a pipeline file describes: an id (None: the handler makes
    it) and the content."""

    id: str | None
    content: Any


@attrs.frozen
class Step:
    """One step of a scenario. ``number`` counts from 1, as the README and messages do."""

    number: int
    action: str
    where: str
    label: str | None = None
    request: Request | None = None
    retry_of: int | None = None
    fault: Fault | None = None
    race: Race | None = None
    actor: Actor | None = None
    pair: tuple[Request, Request] | None = None
    """Two submissions of one id, run interleaved at ``switches`` (an ``interleave`` step)."""
    switches: Switches | None = None
    sent: Sent | None = None
    """A pipeline scenario's submission: an id and a content."""
    pair_sent: tuple[Sent, Sent] | None = None
    case: str | None = None
    """A pipeline scenario's invalid request, by what is wrong with it."""
    records: tuple[Sent | str, ...] | None = None
    """An SQS batch: each record a valid request, or an invalid one by what is wrong with it."""
    target: str | None = None
    """The messageId the step is about: its request's, its actor's, or ``expect.messageId``."""
    expect: Expectation = Expectation()

    @property
    def title(self) -> str:
        """The step as messages and the run's story name it, e.g. ``step 4 (retry of step 2)``."""
        action = f"retry of step {self.retry_of}" if self.retry_of else self.action
        named = f": {self.label}" if self.label else ""
        return f"step {self.number} ({action}{named})"


@attrs.frozen
class Scenario:
    """One file, read and validated: ``where`` is how messages name it."""

    path: Path
    where: str
    name: str
    description: str
    steps: tuple[Step, ...]
    liveness: bool = False
    pipeline: Pipeline | None = None
    """The intake's description (None: the scenario speaks queuecheck's contract)."""
    handler: str | None = None
    """The handler the scenario was written for (``--handler`` overrides it)."""
    broke: str | None = None
    """The invariant the run it was written from broke (a note for the reader)."""
    ignored: tuple[str, ...] = ()
    """Invariants the run it was written from had switched off (found broken before it); the
    replay switches them off too, so it fails on ``broke``."""


# -- reading a file ----------------------------------------------------------------------

_WHAT = {
    bool: "true or false",
    int: "a whole number",
    str: "a quoted text",
    dict: "a table",
    list: "a list",
}


def _shown(value: Any) -> str:
    kind = {
        bool: "boolean",
        int: "number",
        float: "number",
        str: "text",
        dict: "table",
        list: "list",
    }.get(type(value), type(value).__name__)
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return f"{kind} {text[:60]}"


@attrs.define
class _Fields:
    """Takes typed values out of one TOML table and rejects whatever is left over."""

    data: dict[str, Any]
    where: str
    known: tuple[str, ...]
    prefix: str = ""

    def take(self, key: str, kind: type, *, required: bool = False, hint: str = "") -> Any:
        assert key in self.known, key
        name = self.prefix + key
        if key not in self.data:
            if required:
                raise ScenarioFormatError(self.where, f"missing '{name}'{hint}")
            return None
        value = self.data.pop(key)
        if type(value) is not kind:  # exact: true is not a number here
            raise ScenarioFormatError(
                self.where, f"'{name}' must be {_WHAT[kind]}{hint}, got {_shown(value)}"
            )
        return value

    def choice(self, key: str, options: Iterable[str], what: str, *, required: bool = False) -> Any:
        """A text that must be one of ``options``; a near miss is named in the message."""
        value = self.take(key, str, required=required)
        return (
            None if value is None else _choice(value, options, self.where, self.prefix + key, what)
        )

    def table(self, key: str, known: tuple[str, ...]) -> _Fields | None:
        value = self.take(key, dict)
        return (
            None
            if value is None
            else _Fields(dict(value), self.where, known, f"{self.prefix}{key}.")
        )

    def texts(self, key: str) -> tuple[str, ...]:
        values = self.take(key, list) or []
        if not all(isinstance(value, str) for value in values):
            raise ScenarioFormatError(
                self.where, f"'{self.prefix}{key}' must be a list of field names"
            )
        return tuple(values)

    def finish(self) -> None:
        if not self.data:
            return
        key = sorted(self.data)[0]
        guess = difflib.get_close_matches(key, self.known, 1)
        hint = f"; did you mean '{self.prefix}{guess[0]}'?" if guess else ""
        raise ScenarioFormatError(
            self.where,
            f"unknown key '{self.prefix}{key}'{hint} (allowed here: {', '.join(self.known)})",
        )


def _choice(value: Any, options: Iterable[str], where: str, name: str, what: str) -> str:
    options = list(options)
    if value in options:
        return str(value)
    guess = difflib.get_close_matches(str(value), options, 1)
    hint = f" (did you mean '{guess[0]}'?)" if guess else ""
    raise ScenarioFormatError(
        where, f"unknown {what} {value!r} in '{name}'{hint}; use one of: {', '.join(options)}"
    )


def _count(fields: _Fields, key: str, *, least: int = 0) -> int | None:
    value: int | None = fields.take(key, int)
    if value is not None and value < least:
        raise ScenarioFormatError(fields.where, f"'{fields.prefix}{key}' must be at least {least}")
    return value


def display(path: Path) -> str:
    """A path as messages show it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read(path: str | Path) -> Scenario:
    """Read and validate one scenario file (``scenario_model.load`` also checks it)."""
    path = Path(path)
    where = display(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioFormatError(where, f"not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFormatError(where, f"cannot read the file: {exc}") from None
    return parse(data, path)


def parse(data: Mapping[str, Any], path: Path) -> Scenario:
    """The scenario a TOML document describes; ``ScenarioFormatError`` if it is malformed."""
    where = display(path)
    top = _Fields(
        dict(data),
        where,
        ("name", "description", "liveness", "pipeline", "handler", "broke", "ignored", "step"),
    )
    name = top.take("name", str, required=True, hint=' (a one-line title: name = "...")')
    description = top.take(
        "description", str, required=True, hint=" (a few sentences: what the scenario shows)"
    )
    liveness = bool(top.take("liveness", bool))
    pipeline = _pipeline(top.take("pipeline", str), path, where)
    handler = top.take("handler", str)
    broke = top.take("broke", str)
    ignored = top.texts("ignored")
    raw_steps = top.take("step", list, required=True, hint=" (at least one [[step]] table)")
    top.finish()
    if not raw_steps:
        raise ScenarioFormatError(where, "no steps: add at least one [[step]] table")
    steps: list[Step] = []
    for number, raw in enumerate(raw_steps, 1):
        if pipeline is None:
            steps.append(_parse_step(raw, number, where, steps))
        else:
            steps.append(_parse_pipeline_step(raw, number, where, steps, pipeline))
    return Scenario(
        path, where, name, description, tuple(steps), liveness, pipeline, handler, broke, ignored
    )


def _pipeline(given: str | None, path: Path, where: str) -> Pipeline | None:
    """The pipeline file a scenario names: as given, else beside the scenario file."""
    if given is None:
        return None
    candidate = Path(given)
    if not candidate.is_absolute() and not candidate.exists():
        candidate = path.parent / given
    try:
        return load_pipeline(candidate)
    except PipelineFileError as exc:
        raise ScenarioFormatError(where, f"'pipeline' = {given!r}: {exc}") from None


_STEP_KEYS = {
    "submit": ("message", "headers", "body", "base64", "pad_body_to", "method", "path", "event"),
    "get": ("messageId", "id_of"),
    "retry": ("of",),
    "plan fault": ("operation", "kind", "times", "after"),
    "plan race": ("operation", "kind", "after"),
    "another actor": ("actor", "messageId", "id_of", "status", "attribute", "value"),
    "clear faults": (),
    "interleave": ("first", "second", "switches"),
}


def _step_header(
    raw: Any, number: int, file: str, earlier: list[Step], keys: Mapping[str, tuple[str, ...]]
) -> tuple[str, str | None, _Fields]:
    """A step's action and label, and its other keys to take (``keys``: by action)."""
    where = f"{file}, step {number}"
    if not isinstance(raw, dict):
        raise ScenarioFormatError(where, f"must be a [[step]] table, got {_shown(raw)}")
    if "do" not in raw:
        raise ScenarioFormatError(where, f"missing 'do' (what the step does: {', '.join(keys)})")
    action = _choice(raw["do"], keys, where, "do", "action")
    label = raw.get("label")
    if label is not None and (not isinstance(label, str) or not label):
        raise ScenarioFormatError(f"{where} ({action})", "'label' must be a non-empty quoted text")
    if label is not None and any(step.label == label for step in earlier):
        raise ScenarioFormatError(f"{where} ({action})", f"label {label!r} is already used")
    where = f"{where} ({action}{f': {label}' if label else ''})"
    known = ("do", "label", *keys[action], "expect")
    fields = _Fields({k: v for k, v in raw.items() if k not in ("do", "label")}, where, known)
    return action, label, fields


def _parse_step(raw: Any, number: int, file: str, earlier: list[Step]) -> Step:
    action, label, fields = _step_header(raw, number, file, earlier, _STEP_KEYS)
    where = fields.where
    parts: dict[str, Any] = {}
    if action == "submit":
        parts["request"] = _parse_submit(fields)
    elif action == "get":
        parts["request"] = Request(lookup=_message_id(fields, earlier, required=True))
    elif action == "retry":
        original = _resolve(_take_ref(fields, "of"), earlier, where, "of")
        if original.request is None:
            raise ScenarioFormatError(
                where,
                f"'of' names {original.title}, which sends nothing; retry a submit or get step",
            )
        parts.update(request=original.request, retry_of=original.retry_of or original.number)
        where = where.replace("(retry", f"(retry of step {parts['retry_of']}", 1)
    elif action == "plan fault":
        parts["fault"] = _parse_fault(fields)
    elif action == "plan race":
        operation = fields.choice("operation", OPERATIONS, "operation", required=True)
        kind = fields.choice("kind", RACE_KINDS, "race kind", required=True)
        parts["race"] = Race(operation, RaceKind(kind), _count(fields, "after") or 0)
    elif action == "another actor":
        parts["actor"] = _parse_actor(fields, earlier)
    elif action == "interleave":
        parts.update(_parse_interleave(fields))
    expect_fields = fields.table("expect", _EXPECT_KEYS)
    fields.finish()
    target = _target_of(parts, earlier)
    expect, message_id = _parse_expect(expect_fields, action in INVOKING, earlier)
    step = Step(number, action, where, label, expect=expect, target=message_id or target, **parts)
    _require_target(step)
    return step


def _take_ref(fields: _Fields, key: str) -> int | str:
    if key not in fields.data:
        raise ScenarioFormatError(
            fields.where, f"missing '{fields.prefix}{key}' (a step number, or a step's label)"
        )
    value = fields.data.pop(key)
    if type(value) not in (int, str):
        raise ScenarioFormatError(
            fields.where,
            f"'{fields.prefix}{key}' must be a step number or a step's label, got {_shown(value)}",
        )
    return value  # type: ignore[no-any-return]


def _resolve(ref: int | str, earlier: list[Step], where: str, name: str) -> Step:
    """The earlier step a reference names, by number (from 1) or by label."""
    if isinstance(ref, int):
        if 1 <= ref <= len(earlier):
            return earlier[ref - 1]
        raise ScenarioFormatError(
            where,
            f"'{name}' = {ref} names no earlier step (steps before this one: 1..{len(earlier)})",
        )
    for step in earlier:
        if step.label == ref:
            return step
    labels = [step.label for step in earlier if step.label]
    raise ScenarioFormatError(
        where,
        f"'{name}' = {ref!r} is no earlier step's label "
        f"(labels so far: {', '.join(labels) or 'none'})",
    )


def _parse_submit(fields: _Fields) -> Request:
    where = fields.where
    given = [key for key in ("message", "body", "event") if key in fields.data]
    if len(given) != 1:
        raise ScenarioFormatError(
            where,
            "say what to send with exactly one of 'message' (a table: type, payload, ...), "
            f"'body' (the raw request text) or 'event' (a whole raw event); got {given or 'none'}",
        )
    if given == ["event"]:
        others = [key for key in _STEP_KEYS["submit"] if key != "event" and key in fields.data]
        if others:
            raise ScenarioFormatError(where, f"'event' is sent as is: drop {', '.join(others)}")
        return Request(raw_event=fields.take("event", dict))
    message = fields.take("message", dict)
    if message is not None:
        try:
            json.dumps(message, allow_nan=False)
        except (TypeError, ValueError):
            raise ScenarioFormatError(
                where, "'message' must hold JSON values only (no dates or times)"
            ) from None
    body = fields.take("body", str)
    base64 = bool(fields.take("base64", bool))
    if base64 and body is None:
        raise ScenarioFormatError(
            where, "'base64 = true' goes with 'body' (the base64 text to send)"
        )
    headers = fields.take("headers", dict) or {}
    bad = [name for name, value in headers.items() if not isinstance(value, str)]
    if bad:
        raise ScenarioFormatError(where, f"header {bad[0]!r} must be a quoted text")
    method = fields.take("method", str) or "POST"
    path = fields.take("path", str) or "/messages"
    if not path.startswith("/"):
        raise ScenarioFormatError(where, f"'path' must start with '/', got {path!r}")
    pad = _count(fields, "pad_body_to", least=1)
    return Request(message, body, headers, base64, pad, method.upper(), path)


def _parse_interleave(fields: _Fields) -> dict[str, Any]:
    """``first`` and ``second``: two submissions of one id, each a table of submit keys;
    ``switches``: how many AWS calls each makes before handing over, in turn, from the first."""
    pair = []
    for key in ("first", "second"):
        table = fields.table(key, _STEP_KEYS["submit"])
        if table is None:
            raise ScenarioFormatError(
                fields.where, f"missing '{key}' (a table of submit keys: message, headers, ...)"
            )
        request = _parse_submit(table)
        table.finish()
        judged = contract.judge(request.event("scenario"))
        if not isinstance(judged, Submission):
            raise ScenarioFormatError(
                table.where, f"'{key}' must be a valid submission (it would be answered {judged})"
            )
        pair.append((request, judged.message_id))
    if pair[0][1] != pair[1][1]:
        raise ScenarioFormatError(
            fields.where,
            f"'first' and 'second' must share a messageId, got {pair[0][1]!r} and {pair[1][1]!r}",
        )
    switches = fields.take("switches", list, required=True, hint=" (e.g. [1, 2])")
    if not switches or not all(isinstance(n, int) and n >= 0 for n in switches):
        raise ScenarioFormatError(
            fields.where, f"'switches' must list AWS call counts (0 or more), got {switches!r}"
        )
    return {"pair": (pair[0][0], pair[1][0]), "switches": Switches(tuple(switches))}


def _message_id(fields: _Fields, earlier: list[Step], *, required: bool) -> str | None:
    if "messageId" in fields.data and "id_of" in fields.data:
        raise ScenarioFormatError(fields.where, "give either 'messageId' or 'id_of', not both")
    if "id_of" in fields.data:
        step = _resolve(_take_ref(fields, "id_of"), earlier, fields.where, "id_of")
        if step.target is None:
            raise ScenarioFormatError(
                fields.where, f"'id_of' names {step.title}, which names no record"
            )
        return step.target
    message_id = fields.take("messageId", str)
    if message_id is None and required:
        raise ScenarioFormatError(
            fields.where, "missing 'messageId' (or 'id_of': the step whose record is meant)"
        )
    return message_id  # type: ignore[no-any-return]


def _parse_fault(fields: _Fields, operation: str | None = None) -> Fault:
    operation = operation or fields.choice("operation", OPERATIONS, "operation", required=True)
    kind = fields.choice("kind", FAULT_KINDS, "fault kind", required=True)
    times: int | None = 1
    if "times" in fields.data:
        raw = fields.data.pop("times")
        if raw == ALWAYS:
            times = None
        elif type(raw) is int and raw >= 1:
            times = raw
        else:
            raise ScenarioFormatError(
                fields.where,
                f"'times' must be a number of attempts (1 or more) or \"always\", "
                f"got {_shown(raw)}",
            )
    return Fault(operation, FaultKind(kind), times, _count(fields, "after") or 0)


def _parse_actor(fields: _Fields, earlier: list[Step]) -> Actor:
    where = fields.where
    who = fields.choice("actor", ACTORS, "actor", required=True)
    message_id = _message_id(fields, earlier, required=False)
    if message_id is None:
        message_id = next((step.target for step in reversed(earlier) if step.target), None)
        if message_id is None:
            raise ScenarioFormatError(where, "no record to act on yet: add 'messageId'")
    status = fields.choice("status", STATUSES, "status")
    if status is not None and who != "consumer":
        raise ScenarioFormatError(where, "'status' is for actor = \"consumer\" only")
    attribute, value = fields.take("attribute", str), fields.take("value", str)
    if (attribute is not None or value is not None) and who != "writer":
        raise ScenarioFormatError(where, "'attribute' and 'value' are for actor = \"writer\" only")
    if attribute == "messageId":
        raise ScenarioFormatError(where, "another writer cannot change the key 'messageId'")
    return Actor(
        who,
        message_id,
        Status(status) if status else None,
        attribute or "note",
        value if value is not None else "added by another writer",
    )


def _target_of(parts: Mapping[str, Any], earlier: list[Step]) -> str | None:
    if parts.get("actor") is not None:
        return str(parts["actor"].message_id)
    request = parts.get("request") or (parts["pair"][0] if parts.get("pair") else None)
    if request is None:
        return None
    judged = contract.judge(request.event("scenario"))
    return judged.message_id if isinstance(judged, Submission | Lookup) else None


_ANSWER_KEYS = ("status", "code", "duplicate", "crashed", "reported_status", "retry_after")
_EXPECT_KEYS = (*_ANSWER_KEYS, "messageId", "stored", "record", "queue", "competitor")
_RECORD_KEYS: tuple[str, ...] = ("exists", "status", "fields", "present", "absent")
_RECORD_KEYS += ("unchanged_since", "metadata_unchanged_since")
_QUEUE_KEYS = ("messages", "total", "body")


def _parse_answer(fields: _Fields) -> AnswerExpectation:
    status = fields.take("status", int, hint=" (an HTTP status such as 202)")
    if status is not None and not 100 <= status <= 599:
        raise ScenarioFormatError(
            fields.where, f"'{fields.prefix}status' {status} is no HTTP status"
        )
    code = fields.choice("code", ERROR_STATUSES, "error code")
    reported = fields.choice("reported_status", STATUSES, "status")
    expectation = AnswerExpectation(
        status,
        code,
        fields.take("duplicate", bool),
        fields.take("crashed", bool),
        reported,
        fields.take("retry_after", bool),
    )
    if expectation.crashed and (status is not None or code is not None or reported is not None):
        raise ScenarioFormatError(
            fields.where, "a crashed invocation answers nothing: drop status, code, reported_status"
        )
    return expectation


def _parse_expect(
    fields: _Fields | None, invoking: bool, earlier: list[Step]
) -> tuple[Expectation, str | None]:
    if fields is None:
        return Expectation(), None
    answer_keys = [key for key in _ANSWER_KEYS if key in fields.data]
    if answer_keys and not invoking:
        raise ScenarioFormatError(
            fields.where,
            f"'expect.{answer_keys[0]}' is about an answer, and this step sends no request",
        )
    answer = _parse_answer(fields)
    message_id = fields.take("messageId", str)
    stored = _count(fields, "stored")
    record = queue = competitor = None
    record_fields = fields.table("record", _RECORD_KEYS)
    if record_fields is not None:
        record = _parse_record(record_fields, earlier)
    queue_fields = fields.table("queue", _QUEUE_KEYS)
    if queue_fields is not None:
        queue = QueueExpectation(
            _count(queue_fields, "messages"),
            _count(queue_fields, "total"),
            queue_fields.take("body", dict),
        )
        queue_fields.finish()
    competitor_fields = fields.table("competitor", _ANSWER_KEYS)
    if competitor_fields is not None:
        if not invoking:
            raise ScenarioFormatError(
                fields.where, "'expect.competitor' needs a step that sends a request"
            )
        competitor = _parse_answer(competitor_fields)
        competitor_fields.finish()
    fields.finish()
    return Expectation(answer, record, queue, stored, competitor), message_id


def _parse_record(fields: _Fields, earlier: list[Step]) -> RecordExpectation:
    status = fields.choice("status", STATUSES, "status")
    refs = {}
    for key in ("unchanged_since", "metadata_unchanged_since"):
        if key in fields.data:
            refs[key] = _resolve(
                _take_ref(fields, key), earlier, fields.where, f"expect.record.{key}"
            ).number
    record = RecordExpectation(
        fields.take("exists", bool),
        status,
        fields.take("fields", dict) or {},
        fields.texts("present"),
        fields.texts("absent"),
        **refs,
    )
    fields.finish()
    return record


def _require_target(step: Step) -> None:
    expect = step.expect
    needs = expect.record is not None or (
        expect.queue is not None and (expect.queue.messages is not None or expect.queue.body)
    )
    if needs and step.target is None:
        raise ScenarioFormatError(
            step.where,
            "expect.record / expect.queue.messages need a record, and this step names none: "
            'add expect.messageId = "..."',
        )


# -- a pipeline scenario's steps -------------------------------------------------------

PIPELINE_ACTIONS = (
    "submit",
    "invalid",
    "retry",
    "interleave",
    "plan fault",
    "plan race",
    "another actor",
    "clear faults",
)
_PIPELINE_STEP_KEYS = {
    "submit": ("id", "content", "content_json", "records"),
    "invalid": ("case",),
    "retry": ("of",),
    "plan fault": ("operation", "kind", "times", "after"),
    "plan race": ("operation", "kind", "after"),
    "another actor": ("actor", "id"),
    "clear faults": (),
    "interleave": ("first", "second", "switches"),
}
_PIPELINE_EXPECT_KEYS = ("answer", "status", "id", "record", "queue")
_PIPELINE_RECORD_KEYS = ("exists", "status", "fields")
_PIPELINE_QUEUE_KEYS = ("messages", "total")


def _parse_pipeline_step(
    raw: Any, number: int, file: str, earlier: list[Step], pipeline: Pipeline
) -> Step:
    action, label, fields = _step_header(raw, number, file, earlier, _PIPELINE_STEP_KEYS)
    parts = _pipeline_parts(action, fields, earlier)
    where = fields.where
    if parts.get("retry_of"):
        where = where.replace("(retry", f"(retry of step {parts['retry_of']}", 1)
    expect_fields = fields.table("expect", _PIPELINE_EXPECT_KEYS)
    fields.finish()
    invoking = action in ("submit", "invalid", "retry")
    expect, identifier = _parse_pipeline_expect(expect_fields, invoking, pipeline)
    target = identifier or _pipeline_target(parts)
    step = Step(number, action, where, label, expect=expect, target=target, **parts)
    _require_target(step)
    return step


def _pipeline_parts(action: str, fields: _Fields, earlier: list[Step]) -> dict[str, Any]:
    """What a pipeline scenario's step does, by its action."""
    where = fields.where
    if action == "submit" and "records" in fields.data:
        return {"records": _parse_records(fields)}
    if action == "submit":
        return {"sent": _parse_sent(fields)}
    if action == "invalid":
        return {"case": fields.take("case", str, required=True, hint=" (what is wrong with it)")}
    if action == "retry":
        original = _resolve(_take_ref(fields, "of"), earlier, where, "of")
        if original.sent is None and original.case is None and original.records is None:
            raise ScenarioFormatError(
                where, f"'of' names {original.title}, which sends nothing; retry a submit step"
            )
        retry_of = original.retry_of or original.number
        return {
            "sent": original.sent,
            "case": original.case,
            "records": original.records,
            "retry_of": retry_of,
        }
    if action == "plan fault":
        operation = _operation(fields)
        return {"fault": _parse_fault(fields, operation)}
    if action == "plan race":
        operation = _operation(fields)
        kind = fields.choice("kind", PIPELINE_RACES, "race kind", required=True)
        return {"race": Race(operation, RaceKind(kind), _count(fields, "after") or 0)}
    if action == "another actor":
        who = fields.choice("actor", PIPELINE_ACTORS, "actor", required=True)
        identifier = fields.take("id", str)
        if identifier is None:
            identifier = next((step.target for step in reversed(earlier) if step.target), None)
            if identifier is None:
                raise ScenarioFormatError(where, "no record to act on yet: add 'id'")
        return {"actor": Actor(who, identifier)}
    if action == "interleave":
        return _parse_pipeline_pair(fields)
    return {}


def _parse_pipeline_pair(fields: _Fields) -> dict[str, Any]:
    """``first`` and ``second``: two submissions of one id (tables of ``id`` and ``content``);
    ``switches``: how many AWS calls each makes before handing over, in turn."""
    pair = []
    for key in ("first", "second"):
        table = fields.table(key, ("id", "content", "content_json"))
        if table is None:
            raise ScenarioFormatError(fields.where, f"missing '{key}' (a table: id, content)")
        pair.append(_parse_sent(table))
        table.finish()
    if pair[0].id != pair[1].id:
        raise ScenarioFormatError(
            fields.where,
            f"'first' and 'second' must share an id, got {pair[0].id!r} and {pair[1].id!r}",
        )
    switches = fields.take("switches", list, required=True, hint=" (e.g. [1, 2])")
    if not switches or not all(type(n) is int and n >= 0 for n in switches):
        raise ScenarioFormatError(
            fields.where, f"'switches' must list AWS call counts (0 or more), got {switches!r}"
        )
    return {"pair_sent": (pair[0], pair[1]), "switches": Switches(tuple(switches))}


def _pipeline_target(parts: Mapping[str, Any]) -> str | None:
    if parts.get("actor") is not None:
        return str(parts["actor"].message_id)
    if parts.get("sent") is not None:
        return None if parts["sent"].id is None else str(parts["sent"].id)
    sent = [record for record in parts.get("records") or () if isinstance(record, Sent)]
    if sent and sent[0].id is not None:
        return str(sent[0].id)
    if parts.get("pair_sent") is not None:
        return str(parts["pair_sent"][0].id)
    return None


def _operation(fields: _Fields) -> str:
    operation = fields.take("operation", str, required=True, hint=' (e.g. "sqs.SendMessage")')
    if not _OPERATION.match(operation):
        raise ScenarioFormatError(
            fields.where,
            f"'operation' {operation!r} must be service.Operation, e.g. dynamodb.PutItem",
        )
    return str(operation)


def _parse_records(fields: _Fields) -> tuple[Sent | str, ...]:
    """An SQS batch: ``records = [{ id = ..., content = ... }, { case = "..." }, ...]``."""
    raw = fields.take("records", list)
    if not raw or len(raw) > 10 or not all(isinstance(item, dict) for item in raw):
        raise ScenarioFormatError(
            fields.where,
            "'records' must list 1 to 10 tables: { id = ..., content = ... } for a valid "
            'request, { case = "..." } for an invalid one',
        )
    records: list[Sent | str] = []
    for number, item in enumerate(raw, 1):
        table = _Fields(dict(item), f"{fields.where}, record {number}", _BATCH_RECORD_KEYS)
        if "case" in table.data:
            records.append(table.take("case", str))
        else:
            records.append(_parse_sent(table))
        table.finish()
    return tuple(records)


_BATCH_RECORD_KEYS = ("id", "content", "content_json", "case")


def _parse_sent(fields: _Fields) -> Sent:
    identifier = fields.take("id", str, hint=" (the request's id)")
    given = [key for key in ("content", "content_json") if key in fields.data]
    if len(given) != 1:
        raise ScenarioFormatError(
            fields.where,
            "say what the request carries with exactly one of 'content' (a TOML value) or "
            f"'content_json' (JSON text, for content TOML cannot say); got {given or 'none'}",
        )
    if given == ["content"]:
        return Sent(identifier, fields.data.pop("content"))
    text = fields.take("content_json", str)
    try:
        return Sent(identifier, json.loads(text))
    except ValueError as exc:
        raise ScenarioFormatError(fields.where, f"'content_json' is not JSON: {exc}") from None


def _parse_pipeline_expect(
    fields: _Fields | None, invoking: bool, pipeline: Pipeline
) -> tuple[Expectation, str | None]:
    if fields is None:
        return Expectation(), None
    if not invoking and ("answer" in fields.data or "status" in fields.data):
        raise ScenarioFormatError(
            fields.where,
            "'expect.answer' / 'expect.status' are about an answer, and this step sends no request",
        )
    kind = fields.choice("answer", ANSWER_KINDS, "answer")
    status = fields.take("status", int, hint=" (an HTTP status such as 202)")
    identifier = fields.take("id", str)
    record = queue = None
    record_fields = fields.table("record", _PIPELINE_RECORD_KEYS)
    if record_fields is not None:
        record = RecordExpectation(
            record_fields.take("exists", bool),
            record_fields.choice("status", pipeline.statuses, "status"),
            record_fields.take("fields", dict) or {},
        )
        record_fields.finish()
    queue_fields = fields.table("queue", _PIPELINE_QUEUE_KEYS)
    if queue_fields is not None:
        queue = QueueExpectation(_count(queue_fields, "messages"), _count(queue_fields, "total"))
        queue_fields.finish()
    fields.finish()
    answer = AnswerExpectation(status=status, kind=kind)
    return Expectation(answer, record, queue), identifier
