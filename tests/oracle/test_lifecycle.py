"""The lifecycle of a record (DESIGN.md section 1, "Statuses"): who may move it where."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.core import lifecycle
from model.core.lifecycle import Status

PENDING, QUEUED, PROCESSING, DELIVERED, FAILED = (
    Status.PENDING,
    Status.QUEUED,
    Status.PROCESSING,
    Status.DELIVERED,
    Status.FAILED,
)

# DESIGN.md: the intake moves PENDING -> QUEUED; consumers PENDING|QUEUED -> PROCESSING ->
# DELIVERED|FAILED. Written out here, not derived from lifecycle.TRANSITIONS.
DIRECT = {
    (PENDING, QUEUED),
    (PENDING, PROCESSING),
    (QUEUED, PROCESSING),
    (PROCESSING, DELIVERED),
    (PROCESSING, FAILED),
}
# Zero or more direct steps.
FORWARD = (
    DIRECT
    | {(status, status) for status in Status}
    | {
        (PENDING, DELIVERED),
        (PENDING, FAILED),
        (QUEUED, DELIVERED),
        (QUEUED, FAILED),
    }
)
PAIRS = list(itertools.product(Status, Status))
statuses = st.sampled_from(Status)


@pytest.mark.parametrize(("old", "new"), PAIRS)
def test_direct_transitions_are_the_documented_ones(old: Status, new: Status) -> None:
    """A status may move in one step exactly along the documented transitions."""
    assert ((old, new) in DIRECT) == (new in lifecycle.TRANSITIONS[old])


@pytest.mark.parametrize(("old", "new"), PAIRS)
def test_reachable_is_the_forward_closure(old: Status, new: Status) -> None:
    """``reachable`` holds exactly for the pairs a chain of documented transitions connects."""
    assert ((old, new) in FORWARD) == lifecycle.reachable(old, new)


@pytest.mark.parametrize(("old", "new"), [pair for pair in PAIRS if pair not in FORWARD])
def test_going_back_or_sideways_is_unreachable(old: Status, new: Status) -> None:
    """No status goes back (QUEUED -> PENDING, PROCESSING -> QUEUED, ...) or sideways
    (DELIVERED <-> FAILED)."""
    assert False is lifecycle.reachable(old, new)


@pytest.mark.parametrize("terminal", [DELIVERED, FAILED])
def test_delivered_and_failed_are_final(terminal: Status) -> None:
    """DELIVERED and FAILED have no way out."""
    assert frozenset() == lifecycle.TRANSITIONS[terminal]


def test_every_status_has_a_transition_entry() -> None:
    """The transition table covers every status (so ``reachable`` never raises KeyError)."""
    assert set(Status) == set(lifecycle.TRANSITIONS)


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("PENDING", PENDING),
        ("QUEUED", QUEUED),
        ("PROCESSING", PROCESSING),
        ("DELIVERED", DELIVERED),
        ("FAILED", FAILED),
        ("queued", None),
        ("QUEUED ", None),
        ("DONE", None),
        ("", None),
        (None, None),
        (1, None),
    ],
)
def test_parse_knows_exactly_the_five_statuses(stored: object, expected: Status | None) -> None:
    """``parse`` names the five documented statuses, case and all, and nothing else."""
    assert expected == lifecycle.parse(stored)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, False),
        (PENDING, False),
        (QUEUED, True),
        (PROCESSING, True),
        (DELIVERED, True),
        (FAILED, True),
    ],
)
def test_at_least_queued_means_past_pending(status: Status | None, expected: bool) -> None:
    """QUEUED or later counts as queued; PENDING and no record do not."""
    assert expected == lifecycle.at_least_queued(status)


def test_status_update_fields_are_the_documented_ones() -> None:
    """A status update may touch exactly the fields DESIGN.md lists."""
    documented = {
        "status",
        "updatedAt",
        "queuedAt",
        "sqsMessageId",
        "version",
        "lastError",
        "enqueueAttempts",
    }
    assert documented == lifecycle.STATUS_UPDATE_FIELDS


def test_creation_fields_are_the_documented_ones() -> None:
    """Every record carries the documented fields from creation on (``attributes`` only if given,
    ``requestId`` only when the event had one)."""
    documented = {
        "messageId",
        "type",
        "payload",
        "payloadHash",
        "status",
        "createdAt",
        "updatedAt",
        "ttl",
        "version",
    }
    assert documented == lifecycle.CREATION_FIELDS


@given(statuses)
def test_reachable_is_reflexive(status: Status) -> None:
    """Staying put is always allowed."""
    assert lifecycle.reachable(status, status)


@given(statuses, statuses, statuses)
def test_reachable_is_transitive(a: Status, b: Status, c: Status) -> None:
    """Two allowed moves in a row make an allowed move."""
    if lifecycle.reachable(a, b) and lifecycle.reachable(b, c):
        assert lifecycle.reachable(a, c)


@given(statuses, statuses)
def test_nothing_goes_back(a: Status, b: Status) -> None:
    """If b follows a and they differ, a never follows b."""
    if a != b and lifecycle.reachable(a, b):
        assert not lifecycle.reachable(b, a)


@given(statuses.filter(lambda status: status is not Status.PENDING))
def test_nothing_returns_to_pending(status: Status) -> None:
    """PENDING is where every record starts and nothing leads back to it."""
    assert not lifecycle.reachable(status, Status.PENDING)
