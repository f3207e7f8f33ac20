"""Whether some serial order of concurrent submissions explains what they answered and left.

Two invocations that run interleaved (one AWS call of one, then some of the other) must leave
the world as if they had run one after the other, in some order: that is what makes the
conditional writes of DESIGN.md section 1 worth having. A check-then-act dedupe, or an
unconditional PutItem, lets both invocations believe they created the record; no serial order
explains two "created" answers, so this check is what catches them.

The contract's one allowance is at-least-once delivery: an invocation that finds the record its
twin (same content) has just created may take it for an unfinished earlier attempt and resume
it, so it may answer 202 instead of 200 duplicate and send the message once more. A twin only:
a record that was already queued before the pair, or holds other content, allows no such thing.

Pure: observed snapshots and answers in, sentences out.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import attrs

from model.core.contract import Content, Submission
from model.core.invariants import queued_body_matches
from model.core.lifecycle import Status
from model.core.observed import Answer, Snapshot
from model.core.outcomes import DUPLICATE, QUEUED_NOW, Outcome, outcome_of

CONFLICT = Outcome(409, "IDEMPOTENCY_CONFLICT")


@attrs.frozen
class Invocation:
    """One of the concurrent invocations: what it asked, what it answered."""

    name: str
    request: Submission
    answer: Answer


@attrs.frozen
class Record:
    """The one record the invocations share, as the serial model sees it."""

    content: Content | None
    """What the live record holds (None: there is none, or it expired)."""
    status: Status | None
    fresh: bool = False
    """Created or resumed by an invocation earlier in the serial order."""


@attrs.frozen
class Serial:
    """What a serial run of the invocations, in one order, allows."""

    order: tuple[str, ...]
    record: Record
    senders: tuple[Content, ...]
    """The contents some invocation had to send (each at least once)."""
    may_send: tuple[Content, ...]
    """Every content a message may carry: the senders', and a twin's resumption."""
    problems: tuple[str, ...]


def _serial_step(record: Record, invocation: Invocation) -> tuple[frozenset[Outcome], Record, bool]:
    """The answers one invocation may give on ``record`` and what it leaves; True if it sends."""
    content = invocation.request.content
    if record.content is None:
        return frozenset({QUEUED_NOW}), Record(content, Status.QUEUED, True), True
    if record.content.fingerprint() != content.fingerprint():
        return frozenset({CONFLICT}), record, False
    if record.status is Status.PENDING:
        return frozenset({QUEUED_NOW}), Record(content, Status.QUEUED, True), True
    if record.fresh:  # its twin has just done the work: it may resume as if unfinished
        return frozenset({DUPLICATE, QUEUED_NOW}), record, False
    return frozenset({DUPLICATE}), record, False


def _run(start: Record, order: Sequence[Invocation]) -> Serial:
    record, senders, problems = start, [], []
    may_send: list[Content] = []
    for invocation in order:
        permitted, after, sends = _serial_step(record, invocation)
        got = outcome_of(invocation.answer)
        if got not in permitted:
            options = " or ".join(sorted(outcome.describe() for outcome in permitted))
            problems.append(f"{invocation.name} would answer {options}, not {got.describe()}")
        if sends:
            senders.append(invocation.request.content)
        if sends or (record.fresh and got == QUEUED_NOW):
            may_send.append(invocation.request.content)
        record = after
    return Serial(
        tuple(invocation.name for invocation in order),
        record,
        tuple(senders),
        tuple(may_send),
        tuple(problems),
    )


def _state_problems(
    serial: Serial, message_id: str, before: Snapshot, after: Snapshot
) -> list[str]:
    problems = []
    stored = after.record(message_id)
    expected = serial.record
    if expected.content is None:
        if stored is not None and not before.expired(message_id):
            problems.append(f"record {message_id} exists")
    elif stored is None:
        problems.append(f"record {message_id} is missing")
    else:
        if stored.get("payloadHash") != expected.content.fingerprint():
            problems.append(f"record {message_id} holds other content than the winner's")
        if after.status(message_id) is not expected.status:
            problems.append(f"record {message_id} is {stored.get('status')}, not {expected.status}")
    new = after.messages_for(message_id)[len(before.messages_for(message_id)) :]
    for content in serial.senders:
        if not any(_carries(message.body, message_id, content) for message in new):
            problems.append(f"no new message for {message_id} carries the winner's content")
    strays = [
        message
        for message in new
        if not any(_carries(message.body, message_id, content) for content in serial.may_send)
    ]
    if strays:
        problems.append(
            f"{len(strays)} new message(s) for {message_id} carry content no serial run sends"
        )
    elif len(new) > len(serial.may_send):
        problems.append(
            f"{len(new)} new messages for {message_id}, at most {len(serial.may_send)} explained"
        )
    return problems


def _carries(body: object, message_id: str, content: Content) -> bool:
    request = Submission(message_id, content)
    return isinstance(body, dict) and queued_body_matches(body, request)


def serial_orders(
    message_id: str,
    before: Snapshot,
    stored: Content | None,
    invocations: Sequence[Invocation],
    after: Snapshot,
) -> dict[tuple[str, ...], list[str]]:
    """For every serial order of ``invocations``, what it does not explain (empty: all of it).

    ``stored`` is what the model knows the live record held before them (None: no live record).
    """
    status = before.status(message_id) if before.live(message_id) else None
    start = Record(stored if status is not None else None, status)
    explained = {}
    for order in itertools.permutations(invocations):
        serial = _run(start, order)
        explained[serial.order] = [
            *serial.problems,
            *_state_problems(serial, message_id, before, after),
        ]
    return explained


def a_serial_order_explains_them(
    message_id: str,
    before: Snapshot,
    stored: Content | None,
    invocations: Sequence[Invocation],
    after: Snapshot,
) -> list[str]:
    """Linearizability over a small history: some serial order of the invocations gives each
    its answer and leaves the record and the queue as observed. The problems of every order,
    when none explains them; nothing when one does."""
    explained = serial_orders(message_id, before, stored, invocations, after)
    if any(not problems for problems in explained.values()):
        return []
    return [
        f"run as {' then '.join(order)}: {'; '.join(problems)}"
        for order, problems in explained.items()
    ]
