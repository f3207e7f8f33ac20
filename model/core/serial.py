"""Whether some serial order of two concurrent submissions explains them, for any intake a
pipeline file describes.

The contract's check (``model.core.linearize``) knows the record's fields and the exact
answers. A pipeline file says less, so this one speaks of what it can see: the kind of each
answer (accepted, refused, failed), the record's status, which request's content the record
holds, and the new messages for the id. Content is recognised by its canary: every generated
content carries a value of its own (``model.core.invariants.CANARY``), so the request whose
content a record or a message carries can be told wherever the intake stores or sends the
content at all; where it does neither, only statuses, answers and counts are compared.

The allowance is the contract's at-least-once: an invocation that finds the record its twin
(same content) has just created may take it for an unfinished earlier attempt and resume it,
sending the message once more; an intake that keeps one status and sends again on every
repeat (``on_send_failure = "kept"``) may do so on any record of the same content. A request
with other content under a stored id may be accepted or refused (a pipeline file does not say
which), but never changes the record or sends.

Pure: views and replies in, sentences out.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from model.core.generic import Submit, resends
from model.core.spec import Pipeline
from model.core.views import Kind, Reply, View


@attrs.frozen
class Concurrent:
    """One of the concurrent invocations: what it asked, what it answered, and the value that
    marks its content wherever the intake stores or sends it."""

    name: str
    request: Submit
    reply: Reply
    canary: str


@attrs.frozen
class _Record:
    """The one record the invocations share, as a serial run leaves it."""

    content: str | None
    """The canary of the content it holds (None: there is no record)."""
    status: str | None
    fresh: bool = False
    """Created or resumed by an invocation earlier in the serial order."""


@attrs.frozen
class _Serial:
    order: tuple[str, ...]
    record: _Record
    senders: tuple[str, ...]
    """The canaries some invocation had to send (each at least once)."""
    may_send: tuple[str, ...]
    problems: tuple[str, ...]


def _step(
    pipeline: Pipeline, record: _Record, invocation: Concurrent
) -> tuple[frozenset[Kind], _Record, bool]:
    """The answer kinds one invocation may give on ``record``, what it leaves, and whether it
    must send."""
    created = _Record(invocation.canary, pipeline.queued, fresh=True)
    if record.status is None:
        return frozenset({Kind.ACCEPTED}), created, True
    if record.content is not None and record.content != invocation.canary:
        # a direct handler refuses by raising, an SQS one by reporting the message failed
        refused = Kind.FAILED if pipeline.source in ("direct", "sqs") else Kind.REFUSED
        return frozenset({Kind.ACCEPTED, refused}), record, False
    if record.status == pipeline.pending:
        return frozenset({Kind.ACCEPTED}), created, True
    return frozenset({Kind.ACCEPTED}), record, False


def _may_send_again(pipeline: Pipeline, record: _Record, invocation: Concurrent) -> bool:
    """Whether an accepted invocation may send its content once more on a record of the same
    content: its twin has just made the record (at-least-once), or the intake sends again on
    every repeat (it cannot tell whether the message went out)."""
    same = record.content == invocation.canary
    return same and invocation.reply.accepted and (record.fresh or resends(pipeline))


def _run(pipeline: Pipeline, start: _Record, order: Sequence[Concurrent]) -> _Serial:
    record, senders, may_send, problems = start, [], [], []
    for invocation in order:
        permitted, after, sends = _step(pipeline, record, invocation)
        if invocation.reply.kind not in permitted:
            options = " or ".join(sorted(permitted))
            problems.append(
                f"{invocation.name} would be {options}, not {invocation.reply.describe()}"
            )
        if sends or _may_send_again(pipeline, record, invocation):
            may_send.append(invocation.canary)
        if sends:
            senders.append(invocation.canary)
        record = after
    return _Serial(
        tuple(invocation.name for invocation in order),
        record,
        tuple(senders),
        tuple(may_send),
        tuple(problems),
    )


def _carried(value: Any, canaries: Sequence[str]) -> set[str]:
    """The canaries a stored record or a message body shows, however deep it keeps them."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return {canary for canary in canaries if canary in text}


def _state_problems(
    pipeline: Pipeline,
    serial: _Serial,
    identifier: str,
    *,
    before: View,
    after: View,
    canaries: Sequence[str],
) -> list[str]:
    problems: list[str] = []
    key = pipeline.describe_key(identifier)
    stored: Mapping[str, Any] | None = after.record(identifier)
    expected = serial.record
    if expected.status is None:
        if stored is not None:
            problems.append(f"record {key} exists")
    elif stored is None:
        problems.append(f"record {key} is missing")
    else:
        if stored.get(pipeline.status) != expected.status:
            problems.append(f"record {key} is {stored.get(pipeline.status)}, not {expected.status}")
        holds = _carried(dict(stored), canaries)
        if holds and expected.content is not None and expected.content not in holds:
            problems.append(f"record {key} holds other content than the winner's")
    new = [m for m in after.messages if m.id == identifier][before.sent(identifier) :]
    shown = [_carried(message.raw, canaries) for message in new]
    if any(shown):  # the intake sends the content: say whose each message carries
        for canary in serial.senders:
            if not any(canary in carried for carried in shown):
                problems.append(f"no new message for {identifier} carries the winner's content")
        strays = [carried for carried in shown if carried - set(serial.may_send)]
        if strays:
            problems.append(
                f"{len(strays)} new message(s) for {identifier} carry content no serial run sends"
            )
    if len(new) < len(serial.senders):
        problems.append(
            f"{len(new)} new message(s) for {identifier}, at least {len(serial.senders)} needed"
        )
    elif len(new) > len(serial.may_send):
        problems.append(
            f"{len(new)} new messages for {identifier}, at most {len(serial.may_send)} explained"
        )
    return problems


def a_serial_order_explains_them(
    pipeline: Pipeline,
    identifier: str,
    invocations: Sequence[Concurrent],
    *,
    before: View,
    after: View,
    stored: str | None,
) -> list[str]:
    """Some serial order of the invocations gives each its kind of answer and leaves the record
    (its status, and whose content it holds) and the new messages as observed. ``stored`` is
    the canary of the content the model knew the record to hold before them (None: unknown).
    The problems of every order when none explains them; nothing when one does."""
    record = before.record(identifier)
    start = (
        _Record(stored, record.get(pipeline.status)) if record is not None else _Record(None, None)
    )
    canaries = sorted({invocation.canary for invocation in invocations} | {stored or ""} - {""})
    explained = {}
    for order in itertools.permutations(invocations):
        serial = _run(pipeline, start, order)
        explained[serial.order] = [
            *serial.problems,
            *_state_problems(
                pipeline, serial, identifier, before=before, after=after, canaries=canaries
            ),
        ]
    if any(not problems for problems in explained.values()):
        return []
    return [
        f"run as {' then '.join(order)}: {'; '.join(problems)}"
        for order, problems in explained.items()
    ]
