"""The scheduler that interleaves two invocations: one runs at a time, switching exactly at
the drawn AWS calls, and whatever goes wrong on either thread comes back to the caller."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from model.core.plans import Switches
from model.harness.profiles import PATIENCE_ENV
from model.harness.scheduler import InterleavingStuck, Scheduler


def _calls(scheduler: Scheduler, name: str, count: int):
    def invocation() -> str:
        for number in range(count):
            scheduler.at_call(f"{name}{number}")
        return name

    return invocation


@pytest.mark.parametrize(
    ("switches", "expected", "hand_overs"),
    [
        ((0,), ["B b0", "B b1", "A a0", "A a1", "A a2"], ["A@a0"]),
        ((1,), ["A a0", "B b0", "B b1", "A a1", "A a2"], ["A@a1"]),
        ((1, 1), ["A a0", "B b0", "A a1", "A a2", "B b1"], ["A@a1", "B@b1"]),
        ((2, 0, 1), ["A a0", "A a1", "A a2", "B b0", "B b1"], ["A@a2", "B@b0"]),
        ((9,), ["A a0", "A a1", "A a2", "B b0", "B b1"], []),
    ],
)
def test_the_switch_points_decide_the_order_of_calls(switches, expected, hand_overs):
    """A makes the first count of calls, then B the next, in turn; then each runs to its end
    (A first). A switch to an invocation that has finished is no switch."""
    handed: list[str] = []
    scheduler = Scheduler(Switches(switches), lambda who, op: handed.append(f"{'AB'[who]}@{op}"))
    results = scheduler.run(_calls(scheduler, "a", 3), _calls(scheduler, "b", 2))
    assert ["a", "b"] == results
    assert expected == scheduler.calls
    assert hand_overs == handed  # each hand-over reported by who handed over, and where


def test_an_error_on_either_thread_reaches_the_caller():
    """An exception raised by the second invocation, on its own thread, is raised to the
    caller of ``run``."""
    scheduler = Scheduler(Switches((1,)), lambda who, op: None)

    def breaks() -> None:
        scheduler.at_call("b0")
        raise KeyError("from B")

    with pytest.raises(KeyError, match="from B"):
        scheduler.run(_calls(scheduler, "a", 2), breaks)


def test_calls_of_other_threads_are_not_scheduled():
    """The harness's own reads (on the caller's thread) pass straight through."""
    scheduler = Scheduler(Switches((0,)), lambda who, op: None)
    scheduler.at_call("harness read")
    assert [] == scheduler.calls


def test_an_invocation_that_never_hands_back_fails_within_the_patience(monkeypatch):
    """B waits on something only A releases, after A's turn: A never gets its turn back. The
    scheduler gives up after the patience ``QUEUECHECK_PATIENCE_S`` sets, whatever A does with
    the exception raised in its call (here it swallows it, as a handler's catch-all would), and
    says who waited on whom and how to give more time."""
    monkeypatch.setenv(PATIENCE_ENV, "0.2")
    scheduler = Scheduler(Switches((1,)), lambda who, op: None)
    released = threading.Event()

    def first() -> str:
        scheduler.at_call("a0")
        # hands the turn to B, which never gives it back; the error is swallowed, as by a
        # handler answering 500 to whatever went wrong
        with contextlib.suppress(InterleavingStuck):
            scheduler.at_call("a1")
        released.set()
        return "a"

    def second() -> str:
        released.wait()
        scheduler.at_call("b0")
        return "b"

    started = time.perf_counter()
    with pytest.raises(InterleavingStuck) as stuck:
        scheduler.run(first, second)
    elapsed = time.perf_counter() - started

    assert (
        "invocation A never got its turn back: B neither made an AWS call nor answered within "
        "0.2 s (QUEUECHECK_PATIENCE_S sets the patience)"
    ) == str(stuck.value)
    assert 0.2 <= elapsed < 1.0  # the patience, not the default 10 s
