"""The judges a run is held to: what the machine's observations mean, and which invariants
they must keep.

The state machine (``model.harness.machine``) is one: it sends requests, plans faults and
races, runs other actors, interleaves invocations and retries, and records what it saw. A judge
reads that record in one language and checks it:

- ``GenericJudge``: any intake a pipeline file describes, by the generic invariants
  (``model.core.generic``) and the generic serial-order check (``model.core.serial``);
- ``ContractJudge``: a handler written to queuecheck's contract (DESIGN.md section 1), by the
  contract's invariants (``model.core.invariants``) and its serial-order check
  (``model.core.linearize``). It stands in for the generic judge rather than beside it: each
  contract invariant refines a generic one (``REFINES``; a test checks every generic invariant
  is refined), saying the same in the contract's precise terms (exact answers per fault and
  race, error codes and shapes), so running both would only say it twice; and it says more
  (``CONTRACT_ONLY``: the stored fields).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import attrs

from model.core import contract, generic, linearize, serial
from model.core import invariants as contract_invariants
from model.core.contract import Content, Lookup, Rejection, Submission
from model.core.events import Response
from model.core.generic import HANDLER, Change, Invalid, Submit
from model.core.lifecycle import TRANSITIONS, Status
from model.core.observed import Answer, QueueMessage, Snapshot
from model.core.plans import RaceKind
from model.core.sources import NotAnAnswer, batch_of, read_answer, read_batch
from model.core.spec import Pipeline
from model.core.views import Kind, Reply, View
from model.harness.faults import Attempt
from model.harness.sandbox import CONTRACT_LAYOUT, Layout, Sandbox, layout_named
from model.report.trace import AnswerKind

Check = tuple[str, list[str]]
"""An invariant's name (with where in the invocation it was checked) and what broke."""


# -- what a handler did, whatever the judge ----------------------------------------------


@attrs.frozen
class Returned:
    """The handler returned this value."""

    value: Any


@attrs.frozen
class Raised:
    """The handler raised (or, out of process, reported) an error."""

    kind: str
    message: str

    def describe(self) -> str:
        return f"{self.kind}: {self.message}"


@attrs.frozen
class Crashed:
    """The invocation died before answering (an injected crash: a Lambda timeout)."""

    at: str = ""


Result = Returned | Raised | Crashed


@attrs.frozen(eq=False)
class Stretch:
    """What one actor did between two observations inside an invocation; ``when`` names the
    stretch in a failure (``before the race consumer_advances``, ``A up to dynamodb.PutItem``)."""

    before: Any
    after: Any
    actor: str = HANDLER
    when: str = ""


@attrs.frozen(eq=False)
class Seen:
    """One invocation as the machine saw it, before any judge read it."""

    event: Any
    sent: Submit | Invalid | None
    request: Any
    """The judge's reading of the request (``judge.read``)."""
    answer: Any
    before: Any
    after: Any
    stretches: tuple[Stretch, ...]
    attempts: tuple[Attempt, ...]
    logs: tuple[str, ...]
    expected: Any
    """What the judge knew before the step (``judge.expect``): the contract's stored content,
    the generic model's conflict flag."""
    replaceable: frozenset[str] = frozenset()
    competitors: tuple[Any, ...] = ()


@attrs.frozen(eq=False)
class Pair:
    """Two interleaved invocations of one id, as the machine saw them."""

    seen: tuple[Seen, Seen]
    stretches: tuple[Stretch, ...]


def _rule(check: Any) -> str:
    """An invariant's docstring as one paragraph: the rule in English."""
    return " ".join((check.__doc__ or "").split()).split(". Pure:")[0]


def _texts(record: Mapping[str, Any]) -> dict[str, str]:
    """A record's attributes as the report shows them: text as it is, the rest as JSON."""
    return {
        name: value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
        for name, value in sorted(record.items())
    }


def _each(request: Any) -> tuple[Any, ...]:
    """The requests an invocation carried, one or a batch's."""
    return request if isinstance(request, tuple) else (request,)


def injected(attempts: Sequence[Attempt]) -> tuple[tuple[str, str], ...]:
    """(operation, fault kind or race) of what was injected; a service's own errors are not."""
    return tuple((a.operation, a.outcome) for a in attempts if a.injected)


def request_id_of(event: Any) -> str:
    """API Gateway's id of the request, if the event has one."""
    context = event.get("requestContext") if isinstance(event, dict) else None
    request_id = context.get("requestId") if isinstance(context, dict) else None
    return request_id if isinstance(request_id, str) else ""


def canary_of(request: Submit) -> str:
    """The canary the generated content of ``request`` carried (its content is canonical JSON
    of what was generated, before the canary was added)."""
    return contract_invariants.canary(json.loads(request.content))


def _created_for(request: Submit, before: View, after: View) -> str | None:
    """The one record created between ``before`` and ``after`` that carries the canary of
    ``request``'s content (None: none, or more than one)."""
    mark = canary_of(request)
    created = [
        identifier
        for identifier, record in after.records.items()
        if before.record(identifier) is None and mark in json.dumps(dict(record), default=str)
    ]
    return created[0] if len(created) == 1 else None


def layout_of(pipeline: Pipeline) -> Layout:
    """The table and queue a pipeline's handler gets, named after its variables."""
    return layout_named(
        pipeline.table_env,
        pipeline.queue_env,
        tuple(part.attribute for part in pipeline.key),
    )


# -- the generic judge -------------------------------------------------------------------


class GenericJudge:
    """Any intake a pipeline file describes, judged by what the file can tell."""

    title = "the generic invariants (model/core/generic.py)"
    lookups = False
    race_kinds: tuple[RaceKind, ...] = (RaceKind.CONSUMER_ADVANCES, RaceKind.COMPETING_INVOCATION)
    actors: tuple[str, ...] = ("consumer moves on", "another writer annotates")
    names: tuple[str, ...] = (
        *(check.__name__ for check in generic.INVARIANTS),
        serial.a_serial_order_explains_them.__name__,
    )
    refines: ClassVar[dict[str, str]] = {}
    race_target: str | None = None
    """Where a consumer racing an invocation moves the record (None: on by one status)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.interleaves = not pipeline.handler_makes_ids
        """Whether two invocations of one id can be sent at once (not where the handler makes
        each request's id: there is no one id to share)."""

    def layout(self) -> Layout:
        return layout_of(self.pipeline)

    def rules(self) -> list[tuple[str, str]]:
        """Each invariant and the rule it states (its docstring, in one paragraph)."""
        return [
            (check.__name__, _rule(check))
            for check in (*generic.INVARIANTS, serial.a_serial_order_explains_them)
        ]

    def memory(self, secrets: tuple[str, ...]) -> generic.Memory:
        return generic.Memory(secrets=secrets)

    def observe(self, sandbox: Sandbox) -> View:
        return View.of(self.pipeline, sandbox.all_items(), sandbox.bodies())

    def read(self, event: Any, sent: Any) -> Any:
        """The requests an invocation carried: one (``Submit`` or ``Invalid``), or a tuple of
        them (an SQS batch)."""
        if sent is None:
            raise ValueError("a pipeline file's intake has no lookups")
        return sent

    def identifier(self, request: Any) -> str | None:
        first = next((one for one in _each(request) if isinstance(one, Submit)), None)
        return first.id if first is not None else None

    def expect(self, request: Any, before: View, memory: generic.Memory) -> Any:
        """Whether the record each request's id finds is known to hold other content (a
        conflict): one flag, or one per request of a batch, where a message finds what an
        earlier message of the same batch stored (``generic.conflicts``)."""
        flags = generic.conflicts(_each(request), before, memory.contents)
        return flags if isinstance(request, tuple) else flags[0]

    def answer(self, result: Result, label: str, event: Any = None) -> Any:
        """What the handler answered, as a ``Reply``; for an SQS batch, one per record."""
        if self.pipeline.source == "sqs":
            ids = batch_of(event)
            if isinstance(result, Crashed):
                return tuple(Reply(Kind.CRASHED) for _ in ids)
            if isinstance(result, Raised):  # the whole batch comes back
                note = f"failed: the handler raised {result.describe()}"
                return tuple(Reply(Kind.FAILED, None, result.describe(), note) for _ in ids)
            return read_batch(self.pipeline, result.value, ids)
        if isinstance(result, Crashed):
            return Reply(Kind.CRASHED)
        if isinstance(result, Raised):
            if self.pipeline.source == "direct":  # raising is how a direct handler fails
                return Reply(Kind.FAILED, None, result.describe())
            raise NotAnAnswer(f"{label}: raised {result.describe()}")
        try:
            return read_answer(self.pipeline, result.value)
        except NotAnAnswer as exc:
            raise NotAnAnswer(f"{label}: {exc} (API Gateway answers 502)") from None

    def crashed(self, why: str = "") -> Reply:
        """No answer: the invocation crashed, or (``why``) gave nothing its source can use."""
        return Reply(Kind.CRASHED, None, "", note=f"no answer: {why}" if why else "")

    def _parts(
        self, request: Any, answer: Any, conflicts: Any, before: View, after: View
    ) -> list[generic.Part]:
        """The requests of an invocation with their answers, each id the handler made found:
        named by an accepted answer, else the new record that holds the request's content."""
        replies = answer if isinstance(answer, tuple) else (answer,)
        flags = conflicts if isinstance(conflicts, tuple) else (conflicts,)
        parts = []
        for one, reply, conflict in zip(_each(request), replies, flags, strict=True):
            found = one
            if isinstance(one, Submit) and one.id is None:
                found = Submit(self._made_id(one, reply, before, after), one.content)
            parts.append(generic.Part(found, reply, bool(conflict)))
        return parts

    def _made_id(self, request: Submit, reply: Reply, before: View, after: View) -> str | None:
        if reply.accepted:
            try:
                return self.pipeline.id_in_answer(json.loads(reply.text))
            except ValueError:
                return None
        return _created_for(request, before, after)

    def made_so_far(self, request: Any, before: Any, now: Any) -> str | None:
        """Inside an invocation whose handler makes the id: the id of the record it has
        written so far for its (first valid) request, found by the request's canary; None
        while there is none, or more than one."""
        first = next((one for one in _each(request) if isinstance(one, Submit)), None)
        return _created_for(first, before, now) if first is not None else None

    def made_ids(self, seen: Seen, step: generic.Step) -> dict[str, str]:
        """The ids the handler made in the invocation, by the content of the request each was
        made for (a later one for the same content replaces an earlier)."""
        return {
            sent.content: part.request.id
            for sent, part in zip(_each(seen.sent), step.parts, strict=False)
            if isinstance(sent, Submit)
            and sent.id is None
            and isinstance(part.request, Submit)
            and part.request.id is not None
        }

    def step(self, seen: Seen) -> generic.Step:
        changes = tuple(Change(s.before, s.after, s.actor) for s in seen.stretches)
        faults = tuple(
            (op, kind) for op, kind in injected(seen.attempts) if not kind.startswith("race:")
        )
        races = tuple(
            kind.removeprefix("race:")
            for _, kind in injected(seen.attempts)
            if kind.startswith("race:")
        )
        first, *others = self._parts(
            seen.request, seen.answer, seen.expected, seen.before, seen.after
        )
        return generic.Step(
            first.request,
            first.reply,
            changes,
            faults,
            races,
            first.conflict,
            seen.logs,
            tuple(others),
        )

    def competitor(
        self,
        request: Any,
        answer: Reply,
        before: View,
        after: View,
        *,
        replaceable: frozenset[str],
        memory: generic.Memory,
    ) -> generic.Step:
        """A competing invocation of the same request, judged as a step of its own. A record
        the model does not know yet is one the interrupted invocation wrote for the same
        request: it holds the content of the request's first message for its id."""
        contents = dict(memory.contents)
        for one in _each(request):
            if isinstance(one, Submit) and one.id is not None and before.record(one.id):
                contents.setdefault(one.id, one.content)
        conflict = generic.conflicts(_each(request), before, contents)
        change = Change(before, after, "a competing invocation")
        first, *others = self._parts(request, answer, conflict, before, after)
        return generic.Step(
            first.request, first.reply, (change,), conflict=first.conflict, others=tuple(others)
        )

    def checks(self, step: generic.Step, memory: generic.Memory) -> Iterator[Check]:
        for check in generic.INVARIANTS:
            yield check.__name__, check(self.pipeline, step, memory)

    def all_checks(self, seen: Seen, step: generic.Step, memory: generic.Memory) -> Iterator[Check]:
        for competitor in seen.competitors:
            for name, problems in self.checks(competitor, memory):
                yield f"{name} (in the competing invocation)", problems
        yield from self.checks(step, memory)

    def raced(self, kind: RaceKind, request: Any, memory: generic.Memory) -> set[str]:
        """What a race starting inside an invocation tells the model; the ids it may replace."""
        identifier = self.identifier(request)
        if kind is RaceKind.COMPETING_INVOCATION and identifier is not None:
            memory.uncertain.add(identifier)
        return set()

    def remember(self, step: generic.Step, memory: generic.Memory) -> None:
        generic.remember(self.pipeline, step, memory)

    def settled(self, seen: Seen, step: generic.Step) -> list[tuple[str, bool, int]]:
        """For each valid request of the step: its key for retries, whether it needs none
        (accepted, refused, or a conflict), and its place in the invocation."""
        sent = seen.sent if isinstance(seen.sent, tuple) else (seen.sent,)
        return [
            (
                self.key(request),
                part.reply.accepted or part.reply.kind is Kind.REFUSED or part.conflict,
                index,
            )
            for index, (request, part) in enumerate(zip(sent, step.parts, strict=True))
            if isinstance(request, Submit)
        ]

    def key(self, request: Any) -> str:
        """The id and a digest of the content: two contents under one id are two requests
        to retry, however alike their beginnings (a prefix of the text once made two one)."""
        digest = hashlib.sha256(request.content.encode("utf-8")).hexdigest()[:8]
        return f"{request.id or 'a new request'} ({digest})"

    def at_end(self, state: View, memory: generic.Memory) -> list[Check]:
        """What must hold once faults stopped and every unfinished request was retried, by
        the invariant it breaks: no lost message, no message without its record, and (where a
        request carries its id, so that its retries can finish a record) none left pending."""
        pipeline = self.pipeline
        found: dict[str, list[str]] = {}
        for name, problem in generic.end_of_run(pipeline, state, memory):
            found.setdefault(f"{name} (once the retries are done)", []).append(problem)
        checks = list(found.items())
        if pipeline.pending is not None and not pipeline.handler_makes_ids:
            checks.append(
                (
                    "liveness",
                    [
                        f"once faults stopped, record {pipeline.describe_key(identifier)} is "
                        f"still {pipeline.pending}"
                        for identifier, record in sorted(state.records.items())
                        if record.get(pipeline.status) == pipeline.pending
                    ],
                )
            )
        return checks

    def status_of(self, state: View, identifier: str) -> str | None:
        record = state.record(identifier)
        return None if record is None else str(record.get(self.pipeline.status))

    def sent_count(self, state: View, identifier: str) -> int:
        return state.sent(identifier)

    def note(self, step: generic.Step) -> str:
        pipeline, notes = self.pipeline, []
        for identifier in dict.fromkeys(
            part.request.id
            for part in step.parts
            if isinstance(part.request, Submit) and part.request.id is not None
        ):
            record = step.after.record(identifier)
            state = (
                "absent" if record is None else f"{pipeline.status}={record.get(pipeline.status)}"
            )
            key = pipeline.describe_key(identifier)
            notes.append(f"; record {key} {state}, {step.after.sent(identifier)} message(s)")
        return "".join(notes)

    def detail(self, step: generic.Step) -> dict[str, Any]:
        return {"kind": str(step.reply.kind), "status": step.reply.status}

    def answer_kind(self, answer: Any) -> AnswerKind:
        """accepted, refused, failed or crashed (a batch: the worst of its records')."""
        kinds = [reply.kind for reply in (answer if isinstance(answer, tuple) else (answer,))]
        if Kind.CRASHED in kinds:
            return "crashed"
        if Kind.FAILED in kinds:
            return "failed"
        return "refused" if Kind.REFUSED in kinds else "accepted"

    def records_text(self, state: View) -> dict[str, dict[str, str]]:
        """Every record as text, by id: what the report's table shows."""
        return {identifier: _texts(record) for identifier, record in sorted(state.records.items())}

    def messages_text(self, state: View) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for message in state.messages:
            found.setdefault(message.id or "(no id)", []).append(message.raw)
        return found

    def describe_answer(self, answer: Any) -> str:
        if isinstance(answer, tuple):
            return "[" + ", ".join(reply.describe() for reply in answer) + "]"
        return str(answer.describe())

    # -- other actors ----------------------------------------------------------------

    def key_of(self, identifier: str) -> dict[str, dict[str, str]]:
        return {name: {"S": value} for name, value in self.pipeline.key_for(identifier).items()}

    def describe_key(self, identifier: str) -> str:
        return self.pipeline.describe_key(identifier)

    def advance_to(
        self, state: View, identifier: str, status: str | None = None
    ) -> tuple[str, str] | None:
        """(from, to) of a consumer's next transition, only once it could have received a
        message for the record; None: nothing to do."""
        record = state.record(identifier)
        if record is None or not state.sent(identifier):
            return None
        pipeline = self.pipeline
        old = record.get(pipeline.status)
        rank = pipeline.rank(old)
        queued = pipeline.statuses.index(pipeline.queued)
        following = max(rank, queued) + 1 if rank is not None else len(pipeline.statuses)
        if following >= len(pipeline.statuses):
            return None
        new = pipeline.statuses[following]
        if status is not None and status != new:
            return None
        return str(old), new

    def advance_update(self, old: str, new: str) -> dict[str, Any]:
        return {
            "UpdateExpression": "SET #s = :new",
            "ConditionExpression": "#s = :old",
            "ExpressionAttributeNames": {"#s": self.pipeline.status},
            "ExpressionAttributeValues": {":new": {"S": new}, ":old": {"S": old}},
        }

    # -- two invocations interleaved -------------------------------------------------

    def pair_checks(self, pair: Pair, memory: generic.Memory) -> Iterator[Check]:
        changes = tuple(Change(s.before, s.after, s.actor) for s in pair.stretches)
        first = pair.seen[0]
        whole = generic.Step(first.request, first.answer, changes)
        for check in (
            generic.statuses_only_move_forward,
            generic.metadata_never_changes,
            generic.queued_records_were_sent,
        ):
            yield check.__name__, check(self.pipeline, whole, memory)
        steps = [self.step(seen) for seen in pair.seen]
        for step in steps:
            for check in (generic.failures_leak_nothing, generic.logs_carry_no_content):
                yield check.__name__, check(self.pipeline, step, memory)
        identifier = self.identifier(first.request) or ""
        stored = memory.contents.get(identifier) if first.before.record(identifier) else None
        yield (
            serial.a_serial_order_explains_them.__name__,
            serial.a_serial_order_explains_them(
                self.pipeline,
                identifier,
                [
                    serial.Concurrent(name, step.request, step.reply, canary_of(step.request))
                    for name, step in zip("AB", steps, strict=True)
                    if isinstance(step.request, Submit)
                ],
                before=first.before,
                after=first.after,
                stored=None if stored is None else contract_invariants.canary(json.loads(stored)),
            ),
        )
        for step in steps:
            check = generic.accepted_answers_mean_queued_and_sent
            yield check.__name__, check(self.pipeline, step, memory)

    def settle_pair(self, pair: Pair, memory: generic.Memory) -> None:
        first = pair.seen[0]
        identifier = self.identifier(first.request) or ""
        requests = [next(iter(_each(seen.request))) for seen in pair.seen]
        record = first.after.record(identifier)
        if record is None:
            memory.contents.pop(identifier, None)
        else:
            text = json.dumps(dict(record), default=str)
            for request in requests:
                if canary_of(request) in text:
                    memory.contents[identifier] = request.content
            memory.contents.setdefault(identifier, requests[0].content)
        if first.after.sent(identifier) - first.before.sent(identifier) > 1:
            memory.uncertain.add(identifier)
        if generic.resends(self.pipeline) and first.before.record(identifier) is not None:
            memory.uncertain.add(identifier)  # a repeat sends again, as generic.remember says


# -- the contract's judge ----------------------------------------------------------------

# Which generic invariant each contract invariant says in the contract's stricter terms.
REFINES = {
    "errors_are_documented_and_leak_nothing": "failures_leak_nothing",
    "logs_carry_no_payload": "logs_carry_no_content",
    "sqs_failure_rolls_back": "send_failure_leaves_record_as_declared",
    "statuses_only_move_forward": "statuses_only_move_forward",
    "metadata_never_changes": "metadata_never_changes",
    "queued_records_were_sent": "queued_records_were_sent",
    "one_message_per_id_unless_disturbed": "repeats_send_nothing_new",
    "queue_messages_have_records": "every_message_names_a_record",
    "refusals_write_nothing": "invalid_requests_are_refused_and_change_nothing",
    "accepted_requests_are_queued": "accepted_answers_mean_queued_and_sent",
    "answers_are_allowed": "answers_are_allowed",
    linearize.a_serial_order_explains_them.__name__: serial.a_serial_order_explains_them.__name__,
}
# What only the contract can say: which attribute holds what was submitted.
CONTRACT_ONLY = frozenset({"stored_records_match_submissions"})
# The invariants about how records change, checked on each stretch of an invocation that a
# race's actor interrupted (the request-level ones need the whole invocation).
CHANGE_INVARIANTS = (
    contract_invariants.statuses_only_move_forward,
    contract_invariants.metadata_never_changes,
    contract_invariants.queued_records_were_sent,
)
# What each of two interleaved invocations must still keep on its own, before and after the
# two together are judged by ``linearize`` (which says more than whether a 2xx was queued).
EACH_INTERLEAVED = (
    contract_invariants.errors_are_documented_and_leak_nothing,
    contract_invariants.logs_carry_no_payload,
)
EACH_INTERLEAVED_AFTER = (contract_invariants.accepted_requests_are_queued,)
CONTRACT_PIPELINE = "pipelines/reference.toml"


def _payload_of(record: Any) -> Any:
    try:
        return json.loads(record.get("payload", ""))
    except (TypeError, ValueError):
        return None


class ContractJudge(GenericJudge):
    """A handler written to queuecheck's contract, judged by it (DESIGN.md sections 1 and 2)."""

    title = "queuecheck's contract (DESIGN.md section 1) and its invariants"
    lookups = True
    race_kinds = tuple(RaceKind)
    actors = ("consumer moves on", "another writer annotates", "record expires")
    names = (
        *(check.__name__ for check in contract_invariants.INVARIANTS),
        linearize.a_serial_order_explains_them.__name__,
    )
    refines = REFINES
    race_target = str(Status.PROCESSING)

    def __init__(self, pipeline: Pipeline) -> None:
        super().__init__(pipeline)
        self.interleaves = True

    def layout(self) -> Layout:
        return CONTRACT_LAYOUT

    def rules(self) -> list[tuple[str, str]]:
        return [
            (check.__name__, _rule(check))
            for check in (*contract_invariants.INVARIANTS, linearize.a_serial_order_explains_them)
        ]

    def memory(self, secrets: tuple[str, ...]) -> contract_invariants.Memory:  # type: ignore[override]
        return contract_invariants.Memory(secrets=secrets)

    def observe(self, sandbox: Sandbox) -> Snapshot:  # type: ignore[override]
        messages = tuple(QueueMessage(body, attributes) for body, attributes in sandbox.messages())
        return Snapshot(sandbox.items(), messages, int(time.time()))

    def read(self, event: Any, sent: Any) -> Submission | Lookup | Rejection:
        return contract.judge(event)

    def identifier(self, request: Any) -> str | None:
        return request.message_id if isinstance(request, Submission | Lookup) else None

    def expect(  # type: ignore[override]
        self, request: Any, before: Snapshot, memory: contract_invariants.Memory
    ) -> Content | None:
        """What the model knows the live record for the id to hold (None: no live record)."""
        if isinstance(request, Submission) and before.live(request.message_id):
            return memory.contents.get(request.message_id)
        return None

    def answer(self, result: Result, label: str, event: Any = None) -> Answer:
        """The handler's answer; raising, or answering something that is not a proxy response,
        is itself a broken rule (API Gateway would answer 502 and log nothing useful)."""
        if isinstance(result, Crashed):
            return Answer(None)
        if isinstance(result, Raised):
            raise NotAnAnswer(f"{label}: {result.describe()}")
        try:
            response = Response.parse(result.value)
        except ValueError as exc:
            raise NotAnAnswer(f"{label}: ValueError: {exc}") from None
        return Answer(response.status, response.headers, response.body, response.raw_body)

    def crashed(self, why: str = "") -> Answer:  # type: ignore[override]
        return Answer(None)

    def step(self, seen: Seen) -> contract_invariants.Step:  # type: ignore[override]
        event = seen.event if isinstance(seen.event, dict) else {}
        return contract_invariants.Step(
            seen.before,
            seen.after,
            seen.request,
            seen.answer,
            injected(seen.attempts),
            seen.replaceable,
            seen.expected,
            seen.logs,
            str(event.get("body") or ""),
            request_id_of(event),
        )

    def competitor(  # type: ignore[override]
        self,
        request: Any,
        answer: Answer,
        before: Snapshot,
        after: Snapshot,
        *,
        replaceable: frozenset[str],
        memory: contract_invariants.Memory,
    ) -> contract_invariants.Step:
        message_id = self.identifier(request) or ""
        stored = memory.contents.get(message_id) if before.live(message_id) else None
        record = before.record(message_id) or {}
        if isinstance(request, Submission) and record.get("payloadHash") == (
            request.content.fingerprint()
        ):  # the interrupted invocation stored this request's content (replacing an expired one)
            stored = request.content
        return contract_invariants.Step(before, after, request, answer, (), replaceable, stored)

    def checks(  # type: ignore[override]
        self, step: contract_invariants.Step, memory: contract_invariants.Memory
    ) -> Iterator[Check]:
        for check in contract_invariants.INVARIANTS:
            yield check.__name__, check(step, memory)

    def stretch_checks(
        self, stretch: Stretch, replaceable: frozenset[str], memory: contract_invariants.Memory
    ) -> Iterator[Check]:
        """The invariants about changes, on one stretch of an invocation: what the handler did
        before a race's actor acted, or after. Seen from the step's two ends alone, a status the
        handler dragged back after a consumer moved it on would look like progress."""
        step = contract_invariants.Step(stretch.before, stretch.after, replaceable=replaceable)
        for check in CHANGE_INVARIANTS:
            yield f"{check.__name__} ({stretch.when})", check(step, memory)

    def all_checks(  # type: ignore[override]
        self,
        seen: Seen,
        step: contract_invariants.Step,
        memory: contract_invariants.Memory,
    ) -> Iterator[Check]:
        handler_stretches = [s for s in seen.stretches if s.actor == HANDLER]
        if len(handler_stretches) > 1:
            # in the order they happened: the handler's stretch before each race, its
            # competitor (judged as a step of its own), and the handler's last stretch
            competitors = list(seen.competitors)
            for stretch in seen.stretches:
                if stretch.actor == HANDLER:
                    yield from self.stretch_checks(stretch, seen.replaceable, memory)
                elif stretch.actor == COMPETITOR and competitors:
                    for name, problems in self.checks(competitors.pop(0), memory):
                        yield f"{name} (in the competing invocation)", problems
        yield from self.checks(step, memory)

    def raced(self, kind: RaceKind, request: Any, memory: contract_invariants.Memory) -> set[str]:  # type: ignore[override]
        message_id = self.identifier(request)
        if message_id is None:
            return set()
        if kind is RaceKind.COMPETING_INVOCATION:
            memory.uncertain.add(message_id)
            return set()
        if kind in (RaceKind.RECORD_EXPIRES, RaceKind.RECORD_VANISHES):
            memory.uncertain.add(message_id)
            if kind is RaceKind.RECORD_VANISHES:
                memory.vanished.add(message_id)
            return {message_id}
        return set()

    def remember(  # type: ignore[override]
        self, step: contract_invariants.Step, memory: contract_invariants.Memory
    ) -> None:
        contract_invariants.remember(step, memory)

    def settled(  # type: ignore[override]
        self, seen: Seen, step: contract_invariants.Step
    ) -> list[tuple[str, bool, int]]:
        if not isinstance(step.request, Submission) or step.answer is None:
            return []
        return [(self.key(step.request), step.answer.ok or step.answer.status == 409, 0)]

    def key(self, request: Any) -> str:
        return f"{request.message_id} ({request.content.fingerprint()[:8]})"

    def made_so_far(self, request: Any, before: Any, now: Any) -> str | None:
        return None  # every submission to the contract names its id

    def made_ids(self, seen: Seen, step: Any) -> dict[str, str]:
        return {}

    def at_end(  # type: ignore[override]
        self, state: Snapshot, memory: contract_invariants.Memory
    ) -> list[Check]:
        return [
            (
                "liveness",
                [
                    f"once faults stopped, record {message_id} is still PENDING"
                    for message_id in sorted(state.records)
                    if state.live(message_id) and state.status(message_id) is Status.PENDING
                ],
            )
        ]

    def status_of(self, state: Snapshot, identifier: str) -> str | None:  # type: ignore[override]
        status = state.status(identifier)
        return None if status is None else str(status)

    def sent_count(self, state: Snapshot, identifier: str) -> int:  # type: ignore[override]
        return len(state.messages_for(identifier))

    def note(self, step: contract_invariants.Step) -> str:  # type: ignore[override]
        return ""

    def detail(self, step: contract_invariants.Step) -> dict[str, Any]:  # type: ignore[override]
        message_id = self.identifier(step.request)
        answer = step.answer or Answer(None)
        return {
            "status": answer.status,
            "code": answer.code,
            "record": step.after.status(message_id) if message_id else None,
            "messages": len(step.after.messages_for(message_id)) if message_id else None,
        }

    def describe_answer(self, answer: Any) -> str:
        return str(answer.describe())

    def answer_kind(self, answer: Any) -> AnswerKind:
        if answer.crashed:
            return "crashed"
        if answer.ok:
            return "accepted"
        return "refused" if 400 <= answer.status < 500 else "failed"

    def records_text(self, state: Snapshot) -> dict[str, dict[str, str]]:  # type: ignore[override]
        return {identifier: _texts(record) for identifier, record in sorted(state.records.items())}

    def messages_text(self, state: Snapshot) -> dict[str, list[str]]:  # type: ignore[override]
        found: dict[str, list[str]] = {}
        for message in state.messages:
            found.setdefault(message.message_id or "(no id)", []).append(message.raw)
        return found

    # -- other actors ----------------------------------------------------------------

    def key_of(self, identifier: str) -> dict[str, dict[str, str]]:
        return {"messageId": {"S": identifier}}

    def describe_key(self, identifier: str) -> str:
        return identifier

    def advance_to(  # type: ignore[override]
        self, state: Snapshot, identifier: str, status: str | None = None
    ) -> tuple[str, str] | None:
        """A consumer's conditional transition; only for a message it could have received (a
        message left by an expired, replaced record is not this record's)."""
        old, record = state.status(identifier), state.record(identifier) or {}
        sent_for_this_record = any(
            message.body is not None
            and message.body.get("type") == record.get("type")
            and message.body.get("payload") == _payload_of(record)
            for message in state.messages_for(identifier)
        )
        if old is None or not sent_for_this_record:
            return None
        targets = [Status(status)] if status else [Status.PROCESSING, Status.DELIVERED]
        for target in targets:
            if target in TRANSITIONS[old]:
                return str(old), str(target)
        return None

    def advance_update(self, old: str, new: str) -> dict[str, Any]:
        return {
            "UpdateExpression": "SET #s = :new, updatedAt = :now, #v = #v + :one",
            "ConditionExpression": "#s = :old",
            "ExpressionAttributeNames": {"#s": "status", "#v": "version"},
            "ExpressionAttributeValues": {
                ":new": {"S": new},
                ":old": {"S": old},
                ":one": {"N": "1"},
                ":now": {"S": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())},
            },
        }

    # -- two invocations interleaved -------------------------------------------------

    def pair_checks(  # type: ignore[override]
        self, pair: Pair, memory: contract_invariants.Memory
    ) -> Iterator[Check]:
        for stretch in pair.stretches:
            yield from self.stretch_checks(stretch, frozenset(), memory)
        steps = [self.step(seen) for seen in pair.seen]
        for step in steps:
            for check in EACH_INTERLEAVED:
                yield check.__name__, check(step, memory)
        first = pair.seen[0]
        message_id = first.request.message_id
        yield (
            linearize.a_serial_order_explains_them.__name__,
            linearize.a_serial_order_explains_them(
                message_id,
                first.before,
                first.expected,
                [
                    linearize.Invocation(name, seen.request, seen.answer)
                    for name, seen in zip("AB", pair.seen, strict=True)
                ],
                first.after,
            ),
        )
        for step in steps:
            for check in EACH_INTERLEAVED_AFTER:
                yield check.__name__, check(step, memory)

    def settle_pair(self, pair: Pair, memory: contract_invariants.Memory) -> None:  # type: ignore[override]
        """Remember what the pair established: the record's content, and that at-least-once
        delivery may have queued the message twice."""
        first = pair.seen[0]
        message_id = first.request.message_id
        record = first.after.record(message_id)
        if record is None:
            memory.contents.pop(message_id, None)
        else:
            for seen in pair.seen:
                if seen.request.content.fingerprint() == record.get("payloadHash"):
                    memory.contents[message_id] = seen.request.content
        before = len(first.before.messages_for(message_id))
        if len(first.after.messages_for(message_id)) - before > 1:
            memory.uncertain.add(message_id)


COMPETITOR = "a competing invocation"
