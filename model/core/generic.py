"""The generic invariants: what every intake described by a pipeline file must keep.

Each is a named predicate over one observed step that returns the violations it finds as
sentences (empty: it holds). A step is a chain of changes: the handler's own, and, when a race
ran inside the invocation, the other actor's and then the rest of the handler's, each observed
on its own, so that a status that goes back or metadata that changes *within* one invocation
is seen even when the step's start and end look consistent. A step carries one request, or
(an SQS batch) several, each with what was answered for it (``Step.parts``).

Every invariant keeps its meaning whatever the intake's shape: an accepted answer means the
record is stored and its message sent; a record at the queued status or later with no message
once the run's retries are done is a lost message. Where a shape lets a record wait for its
message within the run (one status, written before the send), the invariant waits too, and
``end_of_run`` says it at the end.

The contract's own invariants (``model.core.invariants``) say the same things in the reference's
terms and more (error codes, stored fields); these say only what a pipeline file can tell.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from model.core.invariants import CANARY, around, canary
from model.core.spec import Pipeline
from model.core.views import Kind, Reply, View

HANDLER = "the handler"

# What must never reach a caller: AWS error names, the SDKs' own sentences, stack traces,
# resource names, the text of the faults the harness injects, and the messages of the
# runtime's own exceptions (Python's and Node's JSON parsers and type errors, pydantic's
# validation errors, Node's socket errors: what an SDK for JavaScript v3 call that timed out
# or lost its connection throws).
LEAKS = re.compile(
    r"Traceback|botocore|boto3|An error occurred \(|when calling the \w+ operation"
    r"|endpoint URL|arn:aws|amazonaws\.com|injected \w+|ThrottlingException"
    r"|ProvisionedThroughputExceeded|RequestThrottled|RequestLimitExceeded|AccessDenied"
    r"|ConditionalCheckFailed|TransactionCanceled|InternalServerError|InternalFailure"
    r"|InternalError|ServiceUnavailable|ResourceNotFoundException|ValidationException"
    r"|ClientError|ReadTimeoutError|ConnectTimeoutError|EndpointConnectionError"
    r"|line \d+ column \d+ \(char \d+\)|JSONDecodeError|in JSON at position \d+"
    r"|Unexpected end of JSON input|Unexpected token"
    r"|socket hang up|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|TimeoutError"
    r"|Deserialization error|\$metadata|Cannot destructure property"
    r"|Cannot read propert(?:y|ies) of|is not a function"
    r"|(?:Type|Reference|Syntax|Range)Error|node:internal|file:///"
    r"|\d+ validation errors? for \w+|errors\.pydantic\.dev",
)


@attrs.frozen
class Submit:
    """A valid request: the id it names (None: the handler makes it, and what it made is not
    known yet) and its content, as canonical JSON."""

    id: str | None
    content: str


@attrs.frozen
class Invalid:
    """A request the handler must refuse, and why it is invalid."""

    reason: str


@attrs.frozen(eq=False)
class Change:
    """What one actor did between two observations."""

    before: View
    after: View
    actor: str = HANDLER

    def during(self) -> str:
        return "" if self.actor == HANDLER else f" (while {self.actor} acted)"


@attrs.frozen
class Part:
    """One request of an invocation, and what was answered for it."""

    request: Submit | Invalid
    reply: Reply
    conflict: bool = False
    """The record the request found held other content (``conflicts``)."""


@attrs.frozen(eq=False)
class Step:
    """One invocation as observed: request, answer, what was injected, and its changes."""

    request: Submit | Invalid
    reply: Reply
    changes: tuple[Change, ...]
    faults: tuple[tuple[str, str], ...] = ()
    """(operation, fault kind) of every injected fault."""
    races: tuple[str, ...] = ()
    """The kinds of the races that ran inside the invocation."""
    conflict: bool = False
    """The record the request found held other content (``conflicts``)."""
    logs: tuple[str, ...] = ()
    """Every log record and output line the handler wrote during the step."""
    others: tuple[Part, ...] = ()
    """The other requests of the same invocation (the rest of an SQS batch)."""

    @property
    def parts(self) -> tuple[Part, ...]:
        return (Part(self.request, self.reply, self.conflict), *self.others)

    @property
    def before(self) -> View:
        return self.changes[0].before

    @property
    def after(self) -> View:
        return self.changes[-1].after

    @property
    def calm(self) -> bool:
        return not self.faults and not self.races


@attrs.define
class Memory:
    """What the model remembers across steps."""

    contents: dict[str, str] = attrs.Factory(dict)
    """The content of the current record of each id, learned when a submission created it."""
    uncertain: set[str] = attrs.Factory(set)
    """Ids an invocation of which was disturbed: more than one message is allowed for them."""
    orphaned: set[str] = attrs.Factory(set)
    """Ids whose record a failed send removed after the message may have gone out."""
    unwritten: set[str] = attrs.Factory(set)
    """Ids whose message went out before a record that failed to be written (an intake that
    writes after the send): the record may come with a retry."""
    secrets: tuple[str, ...] = ()
    """Resource names (table, queue URL) an answer must not reveal."""


def conflicts(
    requests: Sequence[Submit | Invalid], before: View, contents: Mapping[str, str]
) -> tuple[bool, ...]:
    """For each request of an invocation (one, or an SQS batch's in order), whether the record
    its id finds holds other content: the record stored before the invocation, where
    ``contents`` (``Memory.contents``) knows what it holds; with none, the one the batch's first
    message for the id stores (a later message with other content finds that record, not the
    empty table). Under a fault the first may store nothing: a conflict allows both acceptance
    and refusal, so it still allows what the handler may answer."""
    holds: dict[str, str | None] = {}
    flags = []
    for request in requests:
        if not isinstance(request, Submit) or request.id is None:
            flags.append(False)
            continue
        if request.id not in holds:
            stored = before.record(request.id) is not None
            holds[request.id] = contents.get(request.id) if stored else request.content
        known = holds[request.id]
        flags.append(known is not None and known != request.content)
    return tuple(flags)


def _disturbed(step: Step) -> bool:
    """Whether an attempt's outcome in this step is unknown: a fault, or a competing
    invocation of the same request."""
    return bool(step.faults) or "competing_invocation" in step.races


def _ids(step: Step) -> list[str]:
    """The ids of the step's valid requests, where known."""
    return [
        part.request.id
        for part in step.parts
        if isinstance(part.request, Submit) and part.request.id is not None
    ]


def _touched(step: Step) -> set[str]:
    """The ids a step wrote or sent for: where the handler makes its ids and a failed answer
    names none, these are the ids its requests got."""
    written = {
        identifier
        for identifier in set(step.before.records) | set(step.after.records)
        if step.before.record(identifier) != step.after.record(identifier)
    }
    sent = {m.id for m in step.after.messages[len(step.before.messages) :] if m.id is not None}
    return written | sent


def _orphaned_now(pipeline: Pipeline, step: Step) -> set[str]:
    """The ids whose record this step's failed send removed, when the file says it should."""
    if not step.faults or pipeline.on_send_failure != "absent" or pipeline.written == "after_send":
        return set()
    return {identifier for identifier in _ids(step) if step.after.record(identifier) is None}


def _unwritten_now(pipeline: Pipeline, step: Step) -> set[str]:
    """The ids whose message this step sent while their record is still not written (an intake
    that writes after the send, whose write failed)."""
    if pipeline.written != "after_send":
        return set()
    return {
        identifier
        for identifier in _ids(step)
        if step.after.record(identifier) is None and step.after.sent(identifier)
    }


def _waiting_for_its_message(pipeline: Pipeline, record: Mapping[str, Any]) -> bool:
    """A record written at the one status before the send, that may still wait for its
    message within the run (a failed send keeps it, and a repeat must send it)."""
    return pipeline.written == "before_send" and record.get(pipeline.status) == pipeline.queued


def resends(pipeline: Pipeline) -> bool:
    """An intake with one status, written before the send, that keeps the record when the
    send fails: it cannot tell whether a record's message went out, so a repeat must send it
    again (at least once: consumers deduplicate)."""
    return pipeline.written == "before_send" and pipeline.on_send_failure == "kept"


def _id(step: Step) -> str | None:
    return step.request.id if isinstance(step.request, Submit) else None


# -- over every change of a step ----------------------------------------------------------


def statuses_only_move_forward(pipeline: Pipeline, step: Step, memory: Memory) -> list[str]:
    """Every stored status is one of the file's, and none goes back in its order, within one
    invocation either."""
    problems = []
    for change in step.changes:
        for identifier, record in change.after.records.items():
            new = record.get(pipeline.status)
            if pipeline.rank(new) is None:
                problems.append(
                    f"record {pipeline.describe_key(identifier)} has {pipeline.status}={new!r}, "
                    f"not one of {list(pipeline.statuses)}{change.during()}"
                )
                continue
            old_record = change.before.record(identifier)
            old = old_record.get(pipeline.status) if old_record is not None else None
            old_rank, new_rank = pipeline.rank(old), pipeline.rank(new)
            if old_rank is not None and new_rank is not None and new_rank < old_rank:
                problems.append(
                    f"record {pipeline.describe_key(identifier)} went back from {old} to {new}"
                    f"{change.during()}"
                )
    return problems


def metadata_never_changes(pipeline: Pipeline, step: Step, memory: Memory) -> list[str]:
    """Every attribute not in ``mutable`` keeps the value it was created with, and a record
    disappears only where the file says a failed send removes it."""
    problems = []
    for change in step.changes:
        for identifier, old in change.before.records.items():
            new = change.after.record(identifier)
            key = pipeline.describe_key(identifier)
            if new is None:
                rolled_back = (
                    pipeline.on_send_failure == "absent"
                    and old.get(pipeline.status) == pipeline.first
                )
                if not rolled_back:
                    problems.append(
                        f"record {key} ({pipeline.status}={old.get(pipeline.status)}) "
                        f"disappeared{change.during()}"
                    )
                continue
            for name in sorted((set(old) | set(new)) - pipeline.mutable):
                if old.get(name) != new.get(name):
                    problems.append(
                        f"record {key}: {name} changed from {old.get(name)!r} to "
                        f"{new.get(name)!r}{change.during()} ({name} is not in table.mutable)"
                    )
    return problems


def queued_records_were_sent(pipeline: Pipeline, step: Step, memory: Memory) -> list[str]:
    """A record at the queued status or later means a message with its id was sent (a record
    written at its one status before the send may wait for its message until the run's retries
    are done: ``end_of_run``)."""
    problems = []
    for change in step.changes:
        problems += [
            f"record {pipeline.describe_key(identifier)} is {record.get(pipeline.status)} but no "
            f"message with its id was sent{change.during()}"
            for identifier, record in change.after.records.items()
            if pipeline.at_least_queued(record.get(pipeline.status))
            and not change.after.sent(identifier)
            and not _waiting_for_its_message(pipeline, record)
        ]
    return sorted(set(problems))


def every_message_names_a_record(pipeline: Pipeline, step: Step, memory: Memory) -> list[str]:
    """Every queue message carries an id at ``id_path``, and a record with that id is stored
    (unless the file's rollback removed it after a send whose outcome was unknown; or, for an
    intake that writes after the send, until a retry writes it: ``end_of_run``)."""
    problems = []
    path = ".".join(pipeline.id_path)
    orphaned = memory.orphaned | _orphaned_now(pipeline, step)
    orphaned |= memory.unwritten | _unwritten_now(pipeline, step)
    for message in step.after.messages:
        if message.id is None:
            problems.append(f"a queue message has no id at {path}: {message.raw[:120]!r}")
        elif message.id not in step.after.records and message.id not in orphaned:
            problems.append(
                f"a queue message names {message.id}, but no record "
                f"{pipeline.describe_key(message.id)} is stored"
            )
    return problems


# -- over the step as a whole -------------------------------------------------------------


def accepted_answers_mean_queued_and_sent(
    pipeline: Pipeline, step: Step, memory: Memory
) -> list[str]:
    """An accepted answer means the record is at the queued status or later and a message with
    its id was sent (where the handler makes the id, the answer names it)."""
    problems = []
    for part in step.parts:
        if not isinstance(part.request, Submit) or not part.reply.accepted:
            continue
        identifier = part.request.id
        if identifier is None:
            where = ".".join(pipeline.answer_id_path)
            problems.append(
                f"accepted ({part.reply.describe()}) but the answer names no id at {where}"
            )
            continue
        record = step.after.record(identifier)
        key = pipeline.describe_key(identifier)
        if record is None:
            problems.append(f"accepted ({part.reply.describe()}) but no record {key} is stored")
            continue
        status = record.get(pipeline.status)
        if not pipeline.at_least_queued(status):
            problems.append(
                f"accepted ({part.reply.describe()}) but record {key} is {status}, "
                f"not {pipeline.queued} or later"
            )
        if not step.after.sent(identifier):
            problems.append(f"accepted but no message with id {identifier} was sent")
    return problems


def send_failure_leaves_record_as_declared(
    pipeline: Pipeline, step: Step, memory: Memory
) -> list[str]:
    """After a failed answer where only SQS was disturbed, the record is as ``on_send_failure``
    says: kept at its first status (``pending``, or ``kept`` at the one status), or absent."""
    if step.races or not step.faults or any(not op.startswith("sqs.") for op, _ in step.faults):
        return []
    problems = []
    for part in step.parts:
        identifier = part.request.id if isinstance(part.request, Submit) else None
        if identifier is None or part.reply.kind is not Kind.FAILED or part.conflict:
            continue
        record = step.after.record(identifier)
        key = pipeline.describe_key(identifier)
        if pipeline.on_send_failure == "absent":
            if record is not None:
                problems.append(
                    f"the send failed and the answer was a failure, but record {key} is still "
                    f"stored ({pipeline.status}={record.get(pipeline.status)}); "
                    "on_send_failure = 'absent'"
                )
            continue
        status = record.get(pipeline.status) if record is not None else None
        if status != pipeline.first:
            found = "absent" if record is None else f"{status}"
            problems.append(
                f"the send failed and the answer was a failure, but record {key} is {found}, "
                f"not {pipeline.first}"
            )
    return problems


def _refused(pipeline: Pipeline, reply: Reply) -> bool:
    """Whether a reply refuses a request as the source does: a 4xx; a direct handler raises;
    an SQS handler reports the message failed (``invalid = "refuse"``) or acknowledges it and
    writes nothing (``"drop"``)."""
    if pipeline.source == "sqs":
        wanted = Kind.ACCEPTED if pipeline.invalid == "drop" else Kind.FAILED
        return reply.kind is wanted
    if pipeline.source == "direct":
        return reply.kind is Kind.FAILED
    return reply.kind is Kind.REFUSED


def invalid_requests_are_refused_and_change_nothing(
    pipeline: Pipeline, step: Step, memory: Memory
) -> list[str]:
    """An invalid request is refused (a 4xx; a direct handler raises; an SQS handler reports
    it failed, or drops it where the file says so), writes nothing and sends nothing."""
    invalid = [part for part in step.parts if isinstance(part.request, Invalid)]
    if not invalid:
        return []
    problems = []
    for part in invalid:
        reply, reason = part.reply, part.request.reason  # type: ignore[union-attr]
        if _refused(pipeline, reply) or reply.kind is Kind.CRASHED:
            continue
        if pipeline.source == "sqs":
            wanted = "acknowledged" if pipeline.invalid == "drop" else "reported failed"
            problems.append(f"an invalid message ({reason}) was {reply.describe()}, not {wanted}")
        elif reply.accepted:
            problems.append(f"an invalid request ({reason}) was accepted: {reply.describe()}")
        elif not step.faults:
            problems.append(f"an invalid request ({reason}) got {reply.describe()}, not a 4xx")
    reason = invalid[0].request.reason  # type: ignore[union-attr]
    valid = set(_ids(step))
    sent = [m for m in step.after.messages[len(step.before.messages) :] if m.id not in valid]
    if sent:
        problems.append(f"an invalid request ({reason}) sent a message")
    changed = sorted(
        pipeline.describe_key(identifier)
        for identifier in set(step.before.records) | set(step.after.records)
        if identifier not in valid
        and step.before.record(identifier) != step.after.record(identifier)
    )
    if changed:
        problems.append(f"an invalid request ({reason}) changed records {changed}")
    return problems


def repeats_send_nothing_new(pipeline: Pipeline, step: Step, memory: Memory) -> list[str]:
    """A request for an id whose record is already queued (and, written before the send, has
    its message) sends nothing, and an id has more than one message only where a fault or race
    made an attempt's outcome unknown."""
    problems = []
    if step.calm:
        for identifier in dict.fromkeys(_ids(step)):
            before = step.before.record(identifier)
            if before is None or not pipeline.at_least_queued(before.get(pipeline.status)):
                continue
            if resends(pipeline):
                continue  # a repeat must send what a failed send may have left unsent
            sent = step.after.sent(identifier) - step.before.sent(identifier)
            if sent > 0:
                problems.append(
                    f"record {pipeline.describe_key(identifier)} was already "
                    f"{before.get(pipeline.status)}, yet the repeat sent {sent} more message(s)"
                )
    disturbed = set(memory.uncertain)
    if _disturbed(step):
        disturbed |= set(_ids(step)) | _touched(step)
    problems += [
        f"{count} messages name {name}, though no request for it was disturbed"
        for name, count in step.after.counts.items()
        if name is not None and count > 1 and name not in disturbed
    ]
    return problems


def failures_leak_nothing(pipeline: Pipeline, step: Step, memory: Memory) -> list[str]:
    """A refusal's or failure's body carries no exception text, AWS error names, table name
    or queue URL (rest and http: a direct handler's exception goes to its own caller, an SQS
    handler's to nobody)."""
    if pipeline.source in ("direct", "sqs"):
        return []
    problems = []
    for part in step.parts:
        reply = part.reply
        if reply.kind not in (Kind.REFUSED, Kind.FAILED):
            continue
        leaks = LEAKS.findall(reply.text) + [
            secret for secret in memory.secrets if secret and secret in reply.text
        ]
        if leaks:
            problems.append(
                f"the {reply.status} answer reveals {sorted(set(leaks))}: {reply.text[:200]!r}"
            )
    return problems


def answers_are_allowed(pipeline: Pipeline, step: Step, memory: Memory) -> list[str]:
    """A valid request is accepted when nothing went wrong or only a race ran (another actor
    got there first: that is success); a fault allows a failure, never a refusal; a request
    that conflicts with a stored record is accepted or refused, but fails only under a fault
    (a direct handler refuses by raising; an SQS handler by reporting the message failed)."""
    problems = []
    refuses_by_failing = pipeline.source in ("direct", "sqs")
    for part in step.parts:
        if not isinstance(part.request, Submit) or part.reply.kind is Kind.CRASHED:
            continue
        kind, reply = part.reply.kind, part.reply.describe()
        if part.conflict:
            if kind is Kind.FAILED and not step.faults and not refuses_by_failing:
                problems.append(f"a request with other content for a stored id got {reply}")
            continue
        if not step.faults and kind is not Kind.ACCEPTED:
            why = (
                f"only a race ran ({', '.join(step.races)})" if step.races else "nothing went wrong"
            )
            problems.append(f"{reply}, but {why}: a valid request must be accepted")
        elif kind is Kind.REFUSED:
            problems.append(
                f"{reply}: a fault is no reason to refuse a valid request (4xx); fail (5xx)"
            )
    return problems


def logs_carry_no_content(pipeline: Pipeline, step: Step, memory: Memory) -> list[str]:
    """No log line shows the generated content: every generated content carries a canary
    value that the handler's logs must never contain (it stands for personal data)."""
    shown = [line for line in step.logs if CANARY in line]
    return [
        f"the handler logged the request's content: {around(line, CANARY)!r}" for line in shown[:3]
    ]


Invariant = Callable[[Pipeline, Step, Memory], list[str]]
INVARIANTS: tuple[Invariant, ...] = (
    # The most specific claims first, so a failure names the rule closest to the bug.
    failures_leak_nothing,
    logs_carry_no_content,
    send_failure_leaves_record_as_declared,
    statuses_only_move_forward,
    metadata_never_changes,
    queued_records_were_sent,
    every_message_names_a_record,
    invalid_requests_are_refused_and_change_nothing,
    repeats_send_nothing_new,
    accepted_answers_mean_queued_and_sent,
    answers_are_allowed,
)


def violations(pipeline: Pipeline, step: Step, memory: Memory) -> list[tuple[str, str]]:
    """Every broken invariant of a step, as (invariant name, what broke)."""
    return [
        (check.__name__, problem)
        for check in INVARIANTS
        for problem in check(pipeline, step, memory)
    ]


def remember(pipeline: Pipeline, step: Step, memory: Memory) -> None:
    """What the step established, for the steps after it (call after checking it)."""
    memory.orphaned |= _orphaned_now(pipeline, step)
    memory.unwritten |= _unwritten_now(pipeline, step)
    if _disturbed(step):
        memory.uncertain |= _touched(step)
    memory.unwritten -= {identifier for identifier in _ids(step) if step.after.record(identifier)}
    learned: set[str] = set()
    for part in step.parts:  # in a batch, the first request for an id is the one that created it
        request = part.request
        if not isinstance(request, Submit) or request.id is None:
            continue
        if _disturbed(step) or (resends(pipeline) and step.before.record(request.id)):
            memory.uncertain.add(request.id)
        record = step.after.record(request.id)
        if record is None:
            memory.contents.pop(request.id, None)
        elif request.id not in learned and (
            step.before.record(request.id) is None or request.id not in memory.contents
        ):
            memory.contents[request.id] = _stored(step, request.id, record) or request.content
            learned.add(request.id)


def _stored(step: Step, identifier: str, record: Mapping[str, Any]) -> str | None:
    """Of the step's requests for ``identifier``, the content whose canary the record shows:
    under a fault a batch's first message for an id may store nothing and a later one store
    its own (None: no content, or more than one, shows)."""
    text = json.dumps(dict(record), default=str)
    shown = {
        part.request.content
        for part in step.parts
        if isinstance(part.request, Submit)
        and part.request.id == identifier
        and canary(json.loads(part.request.content)) in text
    }
    return shown.pop() if len(shown) == 1 else None


def end_of_run(pipeline: Pipeline, view: View, memory: Memory) -> list[tuple[str, str]]:
    """What must hold once faults stopped and every unfinished request was retried, as
    (invariant, what broke): no record at the queued status or later without its message (a
    lost message), no message without its record (except where the file's rollback removed the
    record after a send whose outcome was unknown)."""
    found = [
        (
            queued_records_were_sent.__name__,
            f"record {pipeline.describe_key(identifier)} is {record.get(pipeline.status)} but "
            "no message with its id was sent, and the run's retries are done: a lost message",
        )
        for identifier, record in sorted(view.records.items())
        if pipeline.at_least_queued(record.get(pipeline.status)) and not view.sent(identifier)
    ]
    found += [
        (
            every_message_names_a_record.__name__,
            f"a queue message names {message.id}, but no record "
            f"{pipeline.describe_key(message.id)} is stored, and the run's retries are done",
        )
        for message in view.messages
        if message.id is not None
        and message.id not in view.records
        and message.id not in memory.orphaned
    ]
    return found
