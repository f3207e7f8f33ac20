"""No real sleeps: the node runner fires the AWS SDK's retry timers at once and counts their
delay as virtual time, while the number and order of attempts stay the SDK's own and every
other timer (the handler's, the sockets') keeps its delay. Nothing here reads a clock."""

from __future__ import annotations

from runtimes.support import sdk_or_skip

from model.core.plans import Fault, FaultKind
from model.harness.runtimes import node
from model.harness.runtimes.process import Answered, Context, Runner


def _timers(runners, handlers, moto, proxy) -> Runner:
    sdk_or_skip()
    runner = Runner()
    runners.append(runner)
    env = {**proxy.environment(0), **node.ENVIRONMENT, "CALLS_TABLE": moto.table("id")}
    runner.start(node.command("timers.mjs:handler", handlers), env, str(handlers))
    return runner


def test_retry_delays_are_skipped_and_counted_exactly(runners, handlers, moto, proxy, injector):
    """Throttled at every attempt: the SDK makes all of its attempts and reports the delay it
    waited in total; the runner skipped exactly that much, and the handler's own timer was
    neither skipped nor counted."""
    runner = _timers(runners, handlers, moto, proxy)
    injector.plan(Fault("dynamodb.GetItem", FaultKind.THROTTLE, times=None))

    reply = runner.invoke({"ownDelayMs": 20})

    assert isinstance(reply, Answered)
    assert ["own timer"] == reply.value["fired"]
    assert ("ProvisionedThroughputExceededException", 4) == (
        reply.value["error"],
        reply.value["attempts"],
    )
    assert [1, 2, 3, 4] == [a.attempt for a in injector.attempts]
    assert reply.value["retryDelay"] > 0
    assert reply.value["retryDelay"] == reply.skipped_delay_ms


def test_a_call_that_needs_no_retry_skips_nothing(runners, handlers, moto, proxy):
    runner = _timers(runners, handlers, moto, proxy)

    reply = runner.invoke({"ownDelayMs": 1})

    assert (1, 0, 0.0) == (
        reply.value["attempts"],
        reply.value["retryDelay"],
        reply.skipped_delay_ms,
    )


def test_skipped_time_still_counts_against_the_deadline(runners, handlers, moto, proxy, injector):
    """On Lambda the waits would have used up time: getRemainingTimeInMillis says so."""
    runner = _timers(runners, handlers, moto, proxy)
    injector.plan(Fault("dynamodb.GetItem", FaultKind.THROTTLE, times=None))

    reply = runner.invoke({"ownDelayMs": 1}, Context(timeout_s=30))

    assert reply.skipped_delay_ms > 0
    assert reply.value["remaining"] <= 30_000 - reply.skipped_delay_ms
