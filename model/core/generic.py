"""The generic invariants: what every intake described by a pipeline file must keep.

Each is a named predicate over one observed step that returns the violations it finds as
sentences (empty: it holds). A step is a chain of changes: the handler's own, and, when a race
ran inside the invocation, the other actor's and then the rest of the handler's, each observed
on its own, so that a status that goes back or metadata that changes *within* one invocation
is seen even when the step's start and end look consistent.

The contract's own invariants (``model.core.invariants``) say the same things in the reference's
terms and more (error codes, stored fields); these say only what a pipeline file can tell.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs

from model.core.invariants import CANARY
from model.core.spec import Pipeline
from model.core.views import Kind, Reply, View

HANDLER = "the handler"

# What must never reach a caller: AWS error names, botocore's own sentences, stack traces,
# resource names, and the text of the faults the harness injects.
LEAKS = re.compile(
    r"Traceback|botocore|boto3|An error occurred \(|when calling the \w+ operation"
    r"|endpoint URL|arn:aws|amazonaws\.com|injected \w+|ThrottlingException"
    r"|ProvisionedThroughputExceeded|RequestThrottled|RequestLimitExceeded|AccessDenied"
    r"|ConditionalCheckFailed|TransactionCanceled|InternalServerError|InternalFailure"
    r"|InternalError|ServiceUnavailable|ResourceNotFoundException|ValidationException"
    r"|ClientError|ReadTimeoutError|ConnectTimeoutError|EndpointConnectionError",
)


@attrs.frozen
class Submit:
    """A valid request: the id it names and its content, as canonical JSON."""

    id: str
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
    """A live record for the id held other content before the step."""
    logs: tuple[str, ...] = ()
    """Every log record and output line the handler wrote during the step."""

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
    secrets: tuple[str, ...] = ()
    """Resource names (table, queue URL) an answer must not reveal."""


def _disturbed(step: Step) -> bool:
    """Whether an attempt's outcome in this step is unknown: a fault, or a competing
    invocation of the same request."""
    return bool(step.faults) or "competing_invocation" in step.races


def _orphaned_now(pipeline: Pipeline, step: Step) -> set[str]:
    """The id whose record this step's failed send removed, when the file says it should."""
    identifier = _id(step)
    if identifier is None or not step.faults or pipeline.on_send_failure != "absent":
        return set()
    return set() if step.after.record(identifier) is not None else {identifier}


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
                    and old.get(pipeline.status) == pipeline.pending
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
    """A record at the queued status or later means a message with its id was sent."""
    problems = []
    for change in step.changes:
        problems += [
            f"record {pipeline.describe_key(identifier)} is {record.get(pipeline.status)} but no "
            f"message with its id was sent{change.during()}"
            for identifier, record in change.after.records.items()
            if pipeline.at_least_queued(record.get(pipeline.status))
            and not change.after.sent(identifier)
        ]
    return sorted(set(problems))


def every_message_names_a_record(pipeline: Pipeline, step: Step, memory: Memory) -> list[str]:
    """Every queue message carries an id at ``id_path``, and a record with that id is stored
    (unless the file's rollback removed it after a send whose outcome was unknown)."""
    problems = []
    path = ".".join(pipeline.id_path)
    orphaned = memory.orphaned | _orphaned_now(pipeline, step)
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
    its id was sent."""
    identifier = _id(step)
    if identifier is None or not step.reply.accepted:
        return []
    record = step.after.record(identifier)
    key = pipeline.describe_key(identifier)
    if record is None:
        return [f"accepted ({step.reply.describe()}) but no record {key} is stored"]
    status = record.get(pipeline.status)
    problems = []
    if not pipeline.at_least_queued(status):
        problems.append(
            f"accepted ({step.reply.describe()}) but record {key} is {status}, "
            f"not {pipeline.queued} or later"
        )
    if not step.after.sent(identifier):
        problems.append(f"accepted but no message with id {identifier} was sent")
    return problems


def send_failure_leaves_record_as_declared(
    pipeline: Pipeline, step: Step, memory: Memory
) -> list[str]:
    """After a failed answer where only SQS was disturbed, the record is as ``on_send_failure``
    says: kept at the pending status, or absent."""
    identifier = _id(step)
    if identifier is None or step.reply.kind is not Kind.FAILED or step.races or step.conflict:
        return []
    if not step.faults or any(not op.startswith("sqs.") for op, _ in step.faults):
        return []
    record = step.after.record(identifier)
    key = pipeline.describe_key(identifier)
    if pipeline.on_send_failure == "absent":
        if record is not None:
            return [
                f"the send failed and the answer was a failure, but record {key} is still stored "
                f"({pipeline.status}={record.get(pipeline.status)}); on_send_failure = 'absent'"
            ]
        return []
    status = record.get(pipeline.status) if record is not None else None
    if status != pipeline.pending:
        found = "absent" if record is None else f"{status}"
        return [
            f"the send failed and the answer was a failure, but record {key} is {found}, "
            f"not {pipeline.pending}"
        ]
    return []


def invalid_requests_are_refused_and_change_nothing(
    pipeline: Pipeline, step: Step, memory: Memory
) -> list[str]:
    """An invalid request is refused (a 4xx; a direct handler raises), writes nothing and
    sends nothing."""
    if not isinstance(step.request, Invalid):
        return []
    problems = []
    reply, reason = step.reply, step.request.reason
    if reply.accepted:
        problems.append(f"an invalid request ({reason}) was accepted: {reply.describe()}")
    elif reply.kind is Kind.FAILED and pipeline.source != "direct" and not step.faults:
        problems.append(f"an invalid request ({reason}) got {reply.describe()}, not a 4xx")
    if len(step.after.messages) != len(step.before.messages):
        problems.append(f"an invalid request ({reason}) sent a message")
    changed = sorted(
        pipeline.describe_key(identifier)
        for identifier in set(step.before.records) | set(step.after.records)
        if step.before.record(identifier) != step.after.record(identifier)
    )
    if changed:
        problems.append(f"an invalid request ({reason}) changed records {changed}")
    return problems


def repeats_send_nothing_new(pipeline: Pipeline, step: Step, memory: Memory) -> list[str]:
    """A request for an id whose record is already queued sends nothing, and an id has more
    than one message only where a fault or race made an attempt's outcome unknown."""
    problems = []
    identifier = _id(step)
    if identifier is not None and step.calm:
        before = step.before.record(identifier)
        if before is not None and pipeline.at_least_queued(before.get(pipeline.status)):
            sent = step.after.sent(identifier) - step.before.sent(identifier)
            if sent > 0:
                problems.append(
                    f"record {pipeline.describe_key(identifier)} was already "
                    f"{before.get(pipeline.status)}, yet the repeat sent {sent} more message(s)"
                )
    disturbed = memory.uncertain | ({identifier} if identifier and _disturbed(step) else set())
    problems += [
        f"{count} messages name {name}, though no request for it was disturbed"
        for name, count in step.after.counts.items()
        if name is not None and count > 1 and name not in disturbed
    ]
    return problems


def failures_leak_nothing(pipeline: Pipeline, step: Step, memory: Memory) -> list[str]:
    """A refusal's or failure's body carries no exception text, AWS error names, table name
    or queue URL (rest and http: a direct handler's exception goes to its own caller)."""
    reply = step.reply
    if pipeline.source == "direct" or reply.kind not in (Kind.REFUSED, Kind.FAILED):
        return []
    leaks = LEAKS.findall(reply.text) + [
        secret for secret in memory.secrets if secret and secret in reply.text
    ]
    if leaks:
        return [f"the {reply.status} answer reveals {sorted(set(leaks))}: {reply.text[:200]!r}"]
    return []


def answers_are_allowed(pipeline: Pipeline, step: Step, memory: Memory) -> list[str]:
    """A valid request is accepted when nothing went wrong or only a race ran (another actor
    got there first: that is success); a fault allows a failure, never a refusal; a request
    that conflicts with a stored record is accepted or refused, but fails only under a fault."""
    if not isinstance(step.request, Submit) or step.reply.kind is Kind.CRASHED:
        return []
    kind, reply = step.reply.kind, step.reply.describe()
    if step.conflict:
        if kind is Kind.FAILED and not step.faults and pipeline.source != "direct":
            return [f"a request with other content for a stored id got {reply}"]
        return []
    if not step.faults and kind is not Kind.ACCEPTED:
        why = f"only a race ran ({', '.join(step.races)})" if step.races else "nothing went wrong"
        return [f"{reply}, but {why}: a valid request must be accepted"]
    if kind is Kind.REFUSED:
        return [f"{reply}: a fault is no reason to refuse a valid request (4xx); fail (5xx)"]
    return []


def logs_carry_no_content(pipeline: Pipeline, step: Step, memory: Memory) -> list[str]:
    """No log line shows the generated content: every generated content object carries a
    canary value that the handler's logs must never contain (it stands for personal data)."""
    shown = [line for line in step.logs if CANARY in line]
    return [f"the handler logged the request's content: {line[:200]!r}" for line in shown[:3]]


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
    identifier = _id(step)
    if identifier is None:
        return
    assert isinstance(step.request, Submit)
    if _disturbed(step):
        memory.uncertain.add(identifier)
    memory.orphaned |= _orphaned_now(pipeline, step)
    record = step.after.record(identifier)
    if record is None:
        memory.contents.pop(identifier, None)
    elif step.before.record(identifier) is None or identifier not in memory.contents:
        memory.contents[identifier] = step.request.content
