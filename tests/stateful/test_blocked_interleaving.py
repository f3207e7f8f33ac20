"""A handler that blocks one of two interleaved invocations fails the run in seconds, as
``handler_always_answers``, with a message that says who waited and how long."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from model.core.plans import Switches
from model.harness import strategies as strat
from model.harness.driver import DEFAULT_HANDLER, load_handler
from model.harness.machine import LAST_FAILURE, machine_for
from model.harness.profiles import PATIENCE_ENV

PATIENCE_S = 0.3
_one_at_a_time = threading.Lock()


def one_at_a_time(event: Any, context: Any) -> Any:
    """Keeps invocations apart with a process-wide lock held across its AWS calls (harmless where
    a process serves one invocation at a time): the second of two interleaved invocations waits
    on the lock while the first waits for its turn, which the second never gives back."""
    with _one_at_a_time:
        return load_handler(DEFAULT_HANDLER)(event, context)


def test_a_blocked_interleaving_fails_within_the_patience(monkeypatch, sandbox):
    """The reference's catch-all swallows the scheduler's exception in A's AWS call and answers
    500; the run still fails as a stuck interleaving, after the patience and not a minute."""
    monkeypatch.setenv(PATIENCE_ENV, str(PATIENCE_S))
    machine = machine_for(one_at_a_time)()
    request = strat.SubmitRequest("order.created", {"sku": 1}, None, "order-1", "body")

    started = time.perf_counter()
    with pytest.raises(AssertionError, match="invariant handler_always_answers"):
        machine.interleave_two_invocations(request, strat.TWINS[0], Switches((1,)))
    elapsed = time.perf_counter() - started

    assert "handler_always_answers" == LAST_FAILURE.invariant
    assert [
        "two interleaved invocations: invocation A never got its turn back: B neither made an "
        f"AWS call nor answered within {PATIENCE_S:g} s ({PATIENCE_ENV} sets the patience)"
    ] == list(LAST_FAILURE.problems)
    assert PATIENCE_S <= elapsed < PATIENCE_S + 2  # the patience and some moto calls
