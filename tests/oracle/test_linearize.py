"""Some serial order of two interleaved submissions must explain their answers, the record and
the queue: the cases written from DESIGN.md section 1 (conditional PutItem, resumption of a
PENDING record, at-least-once delivery), not from the harness."""

from __future__ import annotations

import pytest
from oracle.build import ORDER, OTHER, accepted, error, message, record, snapshot

from model.core.contract import Content, Submission
from model.core.linearize import Invocation, a_serial_order_explains_them, serial_orders
from model.core.observed import Answer, Snapshot

EMPTY = snapshot()
NEW = accepted()
DUPLICATE = accepted(duplicate=True, http=200)
CONFLICT = error(409, "IDEMPOTENCY_CONFLICT")
UNAVAILABLE = error(503, "SYSTEM_ERROR")


def pair(first: tuple[Content, Answer], second: tuple[Content, Answer]) -> list[Invocation]:
    return [
        Invocation("A", Submission("m-1", first[0]), first[1]),
        Invocation("B", Submission("m-1", second[0]), second[1]),
    ]


def queued(content: Content, messages: int = 1) -> Snapshot:
    return snapshot([record(content)], [message(content)] * messages)


def explained(
    invocations: list[Invocation],
    after: Snapshot,
    before: Snapshot = EMPTY,
    stored: Content | None = None,
) -> bool:
    return not a_serial_order_explains_them("m-1", before, stored, invocations, after)


@pytest.mark.parametrize(
    ("invocations", "after"),
    [
        pytest.param(pair((ORDER, NEW), (ORDER, DUPLICATE)), queued(ORDER), id="A created, B dup"),
        pytest.param(pair((ORDER, DUPLICATE), (ORDER, NEW)), queued(ORDER), id="B created, A dup"),
        pytest.param(
            pair((ORDER, NEW), (ORDER, NEW)), queued(ORDER, 2), id="B resumed A's record: 2 sent"
        ),
        pytest.param(
            pair((ORDER, NEW), (ORDER, NEW)), queued(ORDER), id="both 202, one message sent"
        ),
        pytest.param(pair((ORDER, NEW), (OTHER, CONFLICT)), queued(ORDER), id="A won the id"),
        pytest.param(pair((ORDER, CONFLICT), (OTHER, NEW)), queued(OTHER), id="B won the id"),
    ],
)
def test_what_a_serial_order_explains_passes(
    invocations: list[Invocation], after: Snapshot
) -> None:
    """Two answers, a record and a queue that some serial order of the two would give."""
    assert explained(invocations, after)


@pytest.mark.parametrize(
    ("invocations", "after"),
    [
        pytest.param(
            pair((ORDER, NEW), (OTHER, NEW)),
            snapshot([record(OTHER)], [message(ORDER), message(OTHER)]),
            id="check-then-act: both created, the last write won",
        ),
        pytest.param(
            pair((ORDER, NEW), (OTHER, CONFLICT)),
            queued(OTHER),
            id="the winner's answer, the loser's record",
        ),
        pytest.param(
            pair((ORDER, DUPLICATE), (ORDER, DUPLICATE)),
            queued(ORDER),
            id="nobody created the record both call a duplicate",
        ),
        pytest.param(
            pair((ORDER, NEW), (ORDER, DUPLICATE)),
            queued(ORDER, 2),
            id="a duplicate answer sent a message",
        ),
        pytest.param(
            pair((ORDER, NEW), (OTHER, CONFLICT)),
            snapshot([record(ORDER)], [message(ORDER), message(OTHER)]),
            id="the refused content was sent",
        ),
        pytest.param(
            pair((ORDER, NEW), (ORDER, DUPLICATE)),
            snapshot([record(ORDER, status="PENDING")]),
            id="202 but the record stays PENDING and nothing was sent",
        ),
        pytest.param(
            pair((ORDER, NEW), (ORDER, UNAVAILABLE)),
            queued(ORDER),
            id="no fault, yet 503",
        ),
        pytest.param(pair((ORDER, NEW), (ORDER, NEW)), queued(ORDER, 3), id="three messages"),
    ],
)
def test_what_no_serial_order_explains_fails(
    invocations: list[Invocation], after: Snapshot
) -> None:
    """Two answers, a record and a queue that neither serial order of the two would give."""
    assert not explained(invocations, after)


def test_a_twin_may_resume_only_a_record_created_in_the_pair() -> None:
    """Both find the record already QUEUED: each must answer duplicate, none may send."""
    before = queued(ORDER)
    both_new = pair((ORDER, NEW), (ORDER, NEW))
    assert not explained(both_new, queued(ORDER, 2), before, ORDER)
    assert explained(pair((ORDER, DUPLICATE), (ORDER, DUPLICATE)), before, before, ORDER)


def test_a_pending_record_is_resumed_by_whoever_comes_first() -> None:
    """An earlier attempt left the record PENDING: the first resumes it (202), the second may
    find it QUEUED (200) or resume it too (202)."""
    before = snapshot([record(ORDER, status="PENDING")])
    assert explained(pair((ORDER, NEW), (ORDER, DUPLICATE)), queued(ORDER), before, ORDER)
    assert explained(pair((ORDER, NEW), (ORDER, NEW)), queued(ORDER, 2), before, ORDER)
    assert not explained(pair((ORDER, NEW), (ORDER, NEW)), before, before, ORDER)


def test_every_order_says_what_it_does_not_explain() -> None:
    """A failure names each serial order and why it fails, so the report reads as a story."""
    invocations = pair((ORDER, NEW), (OTHER, NEW))
    after = snapshot([record(OTHER)], [message(ORDER), message(OTHER)])
    orders = serial_orders("m-1", EMPTY, None, invocations, after)
    assert set(orders) == {("A", "B"), ("B", "A")}
    assert "B would answer 409 IDEMPOTENCY_CONFLICT, not 202 duplicate=false" in orders["A", "B"]
    problems = a_serial_order_explains_them("m-1", EMPTY, None, invocations, after)
    assert [problem.split(":")[0] for problem in problems] == ["run as A then B", "run as B then A"]
