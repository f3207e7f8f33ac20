"""The fault library: every fault kind, duration and race does to an AWS call what
``model/core/plans.py`` and DESIGN.md section 3 say, under botocore's real retries.

Numbers measured with boto3/botocore 1.43 and moto 5.2: ``standard`` retries make the 3
attempts configured; ``legacy`` retries make 10 for DynamoDB and 5 for SQS, retrying SQS's
``RequestThrottled`` because the injector answers it with HTTP 403, as SQS does.
"""

from __future__ import annotations

import collections
from typing import Any, NamedTuple

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.core.plans import Fault, FaultKind, Race, RaceKind
from model.harness.faults import Attempt, InvocationCrashed
from model.harness.sandbox import Sandbox

PUT = "dynamodb.PutItem"
UPDATE = "dynamodb.UpdateItem"
GET = "dynamodb.GetItem"
SEND = "sqs.SendMessage"
# The most attempts one call makes, measured: by retry mode and service.
ATTEMPTS = {
    ("standard", "dynamodb"): 3,
    ("standard", "sqs"): 3,
    ("legacy", "dynamodb"): 10,
    ("legacy", "sqs"): 5,
}
MODES = ("standard", "legacy")


def max_attempts(mode: str, operation: str) -> int:
    return ATTEMPTS[(mode, operation.partition(".")[0])]


def outcomes(sandbox: Sandbox) -> list[tuple[int, str]]:
    """(attempt number, outcome) of every attempt the injector saw."""
    return [(attempt.attempt, attempt.outcome) for attempt in sandbox.injector.attempts]


def failing(operation: str, kind: FaultKind, mode: str) -> list[tuple[int, str]]:
    """The attempts of one call that fails all the way: every attempt the SDK makes."""
    tries = max_attempts(mode, operation) if kind.retryable else 1
    return [(number, str(kind)) for number in range(1, tries + 1)]


# -- error responses: the service's real codes, retried or not as the SDK decides -------------


class Refusal(NamedTuple):
    """An always-failing error response, and what the caller gets after the SDK's retries."""

    operation: str
    kind: FaultKind
    mode: str
    code: str
    status: int
    attempts: int

    def describe(self) -> str:
        return f"{self.kind}-{self.operation}-{self.mode}"


REFUSALS = [
    Refusal(PUT, FaultKind.THROTTLE, "standard", "ProvisionedThroughputExceededException", 400, 3),
    Refusal(PUT, FaultKind.THROTTLE, "legacy", "ProvisionedThroughputExceededException", 400, 10),
    Refusal(SEND, FaultKind.THROTTLE, "standard", "RequestThrottled", 403, 3),
    Refusal(SEND, FaultKind.THROTTLE, "legacy", "RequestThrottled", 403, 5),
    Refusal(PUT, FaultKind.SERVER_ERROR, "standard", "InternalServerError", 500, 3),
    Refusal(PUT, FaultKind.SERVER_ERROR, "legacy", "InternalServerError", 500, 10),
    Refusal(SEND, FaultKind.SERVER_ERROR, "standard", "InternalError", 500, 3),
    Refusal(SEND, FaultKind.SERVER_ERROR, "legacy", "InternalError", 500, 5),
    Refusal(PUT, FaultKind.ACCESS_DENIED, "standard", "AccessDeniedException", 400, 1),
    Refusal(PUT, FaultKind.ACCESS_DENIED, "legacy", "AccessDeniedException", 400, 1),
    Refusal(SEND, FaultKind.ACCESS_DENIED, "standard", "AccessDenied", 403, 1),
    Refusal(SEND, FaultKind.ACCESS_DENIED, "legacy", "AccessDenied", 403, 1),
]


@pytest.mark.parametrize("case", REFUSALS)
def test_persistent_error_reaches_the_caller_with_the_real_code_and_is_not_applied(
    sandbox: Sandbox, calls: Any, case: Refusal
) -> None:
    """An always-failing error response ends in a ClientError carrying the service's own code
    and HTTP status, after every attempt the SDK allows (one for a non-retryable error), and
    the request is never applied."""
    sandbox.injector.plan(Fault(case.operation, case.kind, times=None))

    with pytest.raises(ClientError) as raised:
        calls.call(case.operation, case.mode)

    error = raised.value.response
    assert case.code == error["Error"]["Code"]
    assert case.status == error["ResponseMetadata"]["HTTPStatusCode"]
    assert case.attempts - 1 == error["ResponseMetadata"]["RetryAttempts"]
    assert [(n, str(case.kind)) for n in range(1, case.attempts + 1)] == outcomes(sandbox)
    assert case.kind.retryable == (case.attempts > 1)
    assert 0 == calls.applied(case.operation)


# -- transport failures: before the request is sent, so never applied --------------------------

TRANSPORT_ERRORS = {
    FaultKind.TIMEOUT: ConnectTimeoutError,
    FaultKind.CONNECTION_ERROR: EndpointConnectionError,
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("operation", [PUT, SEND])
@pytest.mark.parametrize("kind", list(TRANSPORT_ERRORS))
def test_transport_failure_is_retried_then_raised_and_never_applied(
    sandbox: Sandbox, calls: Any, kind: FaultKind, operation: str, mode: str
) -> None:
    """A persistent connect timeout or connection error is retried to the SDK's limit, then
    raised as botocore's own exception; no attempt reached the service (no item, no message)."""
    sandbox.injector.plan(Fault(operation, kind, times=None))

    with pytest.raises(TRANSPORT_ERRORS[kind]):
        calls.call(operation, mode)

    assert failing(operation, kind, mode) == outcomes(sandbox)
    assert 0 == calls.applied(operation)


# -- once: absorbed by the SDK's retries ----------------------------------------------------------

ABSORBED = [
    (kind, operation, mode)
    for kind in (
        FaultKind.THROTTLE,
        FaultKind.SERVER_ERROR,
        FaultKind.TIMEOUT,
        FaultKind.CONNECTION_ERROR,
    )
    for operation in (PUT, SEND)
    for mode in MODES
]


@pytest.mark.parametrize(("kind", "operation", "mode"), ABSORBED)
def test_one_retryable_failure_is_absorbed_by_sdk_retries(
    sandbox: Sandbox, calls: Any, kind: FaultKind, operation: str, mode: str
) -> None:
    """A retryable fault planned once fails attempt 1; the SDK's attempt 2 passes, the caller
    sees success, and the request is applied exactly once."""
    sandbox.injector.plan(Fault(operation, kind))

    calls.call(operation, mode)

    assert [(1, str(kind)), (2, "passed")] == outcomes(sandbox)
    assert 1 == calls.applied(operation)


def test_throttle_once_on_put_item_writes_the_item(sandbox: Sandbox, calls: Any) -> None:
    """The example of DESIGN.md: a single throttle on PutItem is invisible to the caller; the
    injector's record shows attempt 1 throttled and attempt 2 passed, and the item is stored."""
    sandbox.injector.plan(Fault(PUT, FaultKind.THROTTLE, times=1))

    response = calls.put_item("m-1")

    assert 200 == response["ResponseMetadata"]["HTTPStatusCode"]
    assert 1 == response["ResponseMetadata"]["RetryAttempts"]
    expected = [Attempt(PUT, 1, "throttle"), Attempt(PUT, 2, "passed")]
    assert expected == sandbox.injector.attempts
    assert {"m-1": {"messageId": "m-1", "status": "PENDING", "version": 1}} == sandbox.items()


# -- applied, response lost -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_applied_lost_send_leaves_two_messages_while_the_caller_sees_success(
    sandbox: Sandbox, calls: Any, mode: str
) -> None:
    """SendMessage applied then lost once: the SDK retries, the caller sees one success, and the
    queue holds the message twice."""
    sandbox.injector.plan(Fault(SEND, FaultKind.APPLIED_LOST, times=1))

    response = calls.send_message("hello", mode)

    assert 200 == response["ResponseMetadata"]["HTTPStatusCode"]
    assert [("hello", {}), ("hello", {})] == sandbox.messages()
    assert [(1, "applied_lost"), (2, "passed")] == outcomes(sandbox)


@pytest.mark.parametrize("mode", MODES)
def test_applied_lost_conditional_put_fails_its_condition_although_written(
    sandbox: Sandbox, calls: Any, mode: str
) -> None:
    """A conditional PutItem (attribute_not_exists) applied then lost once: the SDK's retry
    finds its own write, so the caller gets ConditionalCheckFailedException, and ALL_OLD shows
    the item the first attempt wrote."""
    sandbox.injector.plan(Fault(PUT, FaultKind.APPLIED_LOST, times=1))

    with pytest.raises(ClientError) as raised:
        calls.put_item_if_new("m-1", mode)

    written = {"messageId": {"S": "m-1"}, "status": {"S": "PENDING"}, "version": {"N": "1"}}
    assert "ConditionalCheckFailedException" == raised.value.response["Error"]["Code"]
    assert written == raised.value.response["Item"]
    assert {"m-1": {"messageId": "m-1", "status": "PENDING", "version": 1}} == sandbox.items()


@pytest.mark.parametrize("mode", MODES)
def test_applied_lost_conditional_update_fails_its_condition_although_applied(
    sandbox: Sandbox, calls: Any, mode: str
) -> None:
    """A conditional UpdateItem (status = PENDING -> QUEUED) applied then lost once comes back
    as ConditionalCheckFailedException although the update happened: ALL_OLD shows it QUEUED."""
    calls.store_pending("m-1")
    sandbox.injector.plan(Fault(UPDATE, FaultKind.APPLIED_LOST, times=1))

    with pytest.raises(ClientError) as raised:
        calls.mark_queued("m-1", mode)

    updated = {"messageId": {"S": "m-1"}, "status": {"S": "QUEUED"}, "version": {"N": "2"}}
    assert "ConditionalCheckFailedException" == raised.value.response["Error"]["Code"]
    assert updated == raised.value.response["Item"]
    assert {"messageId": "m-1", "status": "QUEUED", "version": 2} == sandbox.items()["m-1"]


@pytest.mark.parametrize("mode", MODES)
def test_applied_lost_always_is_a_read_timeout_after_every_attempt_was_applied(
    sandbox: Sandbox, calls: Any, mode: str
) -> None:
    """Always applied-then-lost: the caller sees a ReadTimeoutError after the SDK's last attempt,
    and every one of those attempts was applied (one message each)."""
    sandbox.injector.plan(Fault(SEND, FaultKind.APPLIED_LOST, times=None))

    with pytest.raises(ReadTimeoutError):
        calls.send_message("hello", mode)

    assert [("hello", {})] * max_attempts(mode, SEND) == sandbox.messages()


# -- crash ----------------------------------------------------------------------------------------


def test_invocation_crashed_is_not_an_exception() -> None:
    """InvocationCrashed is a BaseException and not an Exception, so handler code cannot
    catch it with ``except Exception``."""
    assert (True, False) == (
        issubclass(InvocationCrashed, BaseException),
        issubclass(InvocationCrashed, Exception),
    )


@pytest.mark.parametrize("operation", [PUT, SEND])
def test_crash_passes_through_except_exception_and_is_not_applied(
    sandbox: Sandbox, calls: Any, operation: str
) -> None:
    """A crash ends the invocation at the call: it escapes ``except Exception``, is never
    retried, and the request is not applied."""
    sandbox.injector.plan(Fault(operation, FaultKind.CRASH))

    def handler_that_catches_everything() -> str:
        try:
            calls.call(operation)
        except Exception:
            return "answered after its own death"
        return "answered"

    with pytest.raises(InvocationCrashed, match=operation):
        handler_that_catches_everything()

    assert [(1, "crash")] == outcomes(sandbox)
    assert 0 == calls.applied(operation)


# -- durations ------------------------------------------------------------------------------------


class Duration(NamedTuple):
    """``times=N`` throttles against an SDK that makes ``attempts`` attempts at most."""

    mode: str
    operation: str
    times: int
    succeeds: bool
    attempts: int

    def describe(self) -> str:
        return f"{self.times}x-{self.operation}-{self.mode}"


DURATIONS = [
    Duration("standard", PUT, 1, succeeds=True, attempts=2),
    Duration("standard", PUT, 2, succeeds=True, attempts=3),
    Duration("standard", PUT, 3, succeeds=False, attempts=3),
    Duration("standard", SEND, 2, succeeds=True, attempts=3),
    Duration("legacy", PUT, 9, succeeds=True, attempts=10),
    Duration("legacy", PUT, 10, succeeds=False, attempts=10),
    Duration("legacy", SEND, 4, succeeds=True, attempts=5),
    Duration("legacy", SEND, 5, succeeds=False, attempts=5),
]


@pytest.mark.parametrize("case", DURATIONS)
def test_n_times_fails_n_attempts_then_passes(sandbox: Sandbox, calls: Any, case: Duration) -> None:
    """``times=N`` throttles exactly the first N attempts: fewer than the SDK's maximum and the
    call succeeds on attempt N + 1; as many and the call fails."""
    sandbox.injector.plan(Fault(case.operation, FaultKind.THROTTLE, times=case.times))

    try:
        calls.call(case.operation, case.mode)
        succeeded = True
    except ClientError:
        succeeded = False

    expected = [(n, "throttle") for n in range(1, case.times + 1)]
    expected += [(case.times + 1, "passed")] if case.succeeds else []
    assert (case.succeeds, expected) == (succeeded, outcomes(sandbox))
    assert case.attempts == len(outcomes(sandbox))
    assert int(case.succeeds) == calls.applied(case.operation)


def test_after_lets_the_first_attempts_through(sandbox: Sandbox, calls: Any) -> None:
    """``after=2, times=None``: the first two matching attempts pass (two whole calls), and
    every attempt after that is throttled."""
    sandbox.injector.plan(Fault(PUT, FaultKind.THROTTLE, times=None, after=2))

    calls.put_item("m-1")
    calls.put_item("m-2")
    with pytest.raises(ClientError):
        calls.put_item("m-3")

    assert [(1, "passed"), (1, "passed"), (1, "throttle"), (2, "throttle"), (3, "throttle")] == (
        outcomes(sandbox)
    )
    assert ["m-1", "m-2"] == sorted(sandbox.items())


def test_after_and_once_hit_a_later_call(sandbox: Sandbox, calls: Any) -> None:
    """``after=1, times=1``: the first call passes untouched, the second call's first attempt
    is throttled and absorbed by its retry."""
    sandbox.injector.plan(Fault(SEND, FaultKind.THROTTLE, times=1, after=1))

    calls.send_message("first")
    calls.send_message("second")

    assert [(1, "passed"), (1, "throttle"), (2, "passed")] == outcomes(sandbox)
    assert ["first", "second"] == [body for body, _ in sandbox.messages()]


def expected_run(
    fault: Fault, calls: int, limit: int
) -> tuple[list[tuple[int, str]], list[bool], int]:
    """What the plan's docstring promises, worked out by hand for ``calls`` calls of an SDK
    making at most ``limit`` attempts: every attempt, whether each call succeeded, and how
    many calls were applied."""

    def outcome(index: int) -> str:
        fails = index >= fault.after and (fault.times is None or index < fault.after + fault.times)
        return str(fault.kind) if fails else "passed"

    attempts: list[tuple[int, str]] = []
    succeeded: list[bool] = []
    applied = 0
    for _ in range(calls):
        ok = was_applied = False
        for number in range(1, limit + 1):
            attempts.append((number, outcome(len(attempts))))
            was_applied |= attempts[-1][1] in ("passed", str(FaultKind.APPLIED_LOST))
            if attempts[-1][1] == "passed":
                ok = True
                break
            if not fault.kind.retryable:
                break
        succeeded.append(ok)
        applied += was_applied
    return attempts, succeeded, applied


plans = st.builds(
    Fault,
    operation=st.just(PUT),
    kind=st.sampled_from(FaultKind),
    times=st.none() | st.integers(1, 7),
    after=st.integers(0, 5),
)


# The sandbox fixture is shared by the examples on purpose: each example resets it first.
@settings(
    suppress_health_check=[*settings().suppress_health_check, HealthCheck.function_scoped_fixture]
)
@given(fault=plans, count=st.integers(1, 4))
def test_any_plan_fails_exactly_the_attempts_it_names(
    sandbox: Sandbox, calls: Any, fault: Fault, count: int
) -> None:
    """For any kind and duration, over several calls: the first ``after`` matching attempts
    pass, the next ``times`` fail with the kind, the rest pass; the SDK retries exactly the
    retryable kinds, and a call is applied when an attempt passed or was applied-then-lost."""
    sandbox.reset()
    sandbox.injector.plan(fault)

    succeeded = []
    for number in range(count):
        try:
            calls.put_item(f"m-{number}")
            succeeded.append(True)
        except (Exception, InvocationCrashed):
            succeeded.append(False)

    assert expected_run(fault, count, limit=3) == (
        outcomes(sandbox),
        succeeded,
        len(sandbox.items()),
    )


# -- targeting, bookkeeping, control --------------------------------------------------------------

TARGETING = [
    # planned on, called
    (UPDATE, PUT),
    (PUT, UPDATE),
    (PUT, GET),
    (PUT, SEND),
    (SEND, PUT),
]


@pytest.mark.parametrize(("planned", "called"), TARGETING)
def test_a_fault_touches_only_its_operation(
    sandbox: Sandbox, calls: Any, planned: str, called: str
) -> None:
    """A fault planned on one operation lets every other operation through, and stays armed
    for its own."""
    calls.store_pending("m-1")
    sandbox.injector.plan(Fault(planned, FaultKind.ACCESS_DENIED, times=None))

    calls.call(called)

    assert [Attempt(called, 1, "passed")] == sandbox.injector.attempts
    assert sandbox.injector.active()
    with pytest.raises(ClientError):
        calls.call(planned)


def test_injected_counts_per_operation_and_kind(sandbox: Sandbox, calls: Any) -> None:
    """``injected`` counts every injected attempt by (operation, kind), never passed ones."""
    calls.store_pending("m-1")
    sandbox.injector.plan(Fault(PUT, FaultKind.THROTTLE, times=None))
    sandbox.injector.plan(Fault(UPDATE, FaultKind.SERVER_ERROR, times=1))
    sandbox.injector.plan(Fault(SEND, FaultKind.ACCESS_DENIED, times=1))

    with pytest.raises(ClientError):
        calls.put_item("m-2")
    calls.mark_queued("m-1")
    with pytest.raises(ClientError):
        calls.send_message()
    calls.send_message()

    expected = collections.Counter(
        {(PUT, "throttle"): 3, (UPDATE, "server_error"): 1, (SEND, "access_denied"): 1}
    )
    assert expected == sandbox.injector.injected


def test_clear_stops_planned_faults_and_keeps_the_record(sandbox: Sandbox, calls: Any) -> None:
    """After ``clear()`` no planned fault or race fires any more, while what happened before
    (attempts, injected counts) is still on record."""
    ran: list[str] = []
    sandbox.injector.plan(Fault(PUT, FaultKind.THROTTLE, times=None))
    sandbox.injector.plan_race(Race(SEND, RaceKind.CONSUMER_ADVANCES), lambda: ran.append("race"))
    with pytest.raises(ClientError):
        calls.put_item("m-1")

    sandbox.injector.clear()
    calls.put_item("m-1")
    calls.send_message()

    assert (False, []) == (sandbox.injector.active(), ran)
    assert [*failing(PUT, FaultKind.THROTTLE, "standard"), (1, "passed"), (1, "passed")] == (
        outcomes(sandbox)
    )
    assert collections.Counter({(PUT, "throttle"): 3}) == sandbox.injector.injected


def test_reset_also_forgets_the_record(sandbox: Sandbox, calls: Any) -> None:
    """``reset()`` clears the plan, the attempts, the injected counts and any pause."""
    sandbox.injector.plan(Fault(PUT, FaultKind.THROTTLE, times=None))
    with pytest.raises(ClientError):
        calls.put_item("m-1")
    sandbox.injector.paused = True

    sandbox.injector.reset()

    assert ([], collections.Counter(), False, False) == (
        sandbox.injector.attempts,
        sandbox.injector.injected,
        sandbox.injector.paused,
        sandbox.injector.active(),
    )
    calls.put_item("m-1")
    assert [(1, "passed")] == outcomes(sandbox)


def test_pause_suppresses_injection_without_using_up_the_plan(sandbox: Sandbox, calls: Any) -> None:
    """Calls inside ``pause()`` are neither injected nor recorded, and do not count towards a
    fault's ``after`` or ``times``: the planned fault still fires on the first call after."""
    sandbox.injector.plan(Fault(SEND, FaultKind.ACCESS_DENIED, times=1))

    with sandbox.injector.pause():
        calls.send_message("paused-1")
        calls.send_message("paused-2")
    with pytest.raises(ClientError):
        calls.send_message("after")

    assert [(1, "access_denied")] == outcomes(sandbox)
    assert ["paused-1", "paused-2"] == [body for body, _ in sandbox.messages()]


def test_pause_nests_and_restores(sandbox: Sandbox) -> None:
    """Leaving a nested ``pause()`` keeps the outer pause; leaving the outer one resumes."""
    seen = []
    with sandbox.injector.pause():
        with sandbox.injector.pause():
            seen.append(sandbox.injector.paused)
        seen.append(sandbox.injector.paused)
    seen.append(sandbox.injector.paused)

    assert [True, True, False] == seen


def test_active_until_the_last_planned_attempt_fired(sandbox: Sandbox, calls: Any) -> None:
    """``active()`` says whether a planned fault can still fire: until its ``times`` are spent,
    and forever for ``times=None``."""
    sandbox.injector.plan(Fault(PUT, FaultKind.THROTTLE, times=2))
    before = sandbox.injector.active()
    calls.put_item("m-1")
    after_spent = sandbox.injector.active()
    sandbox.injector.plan(Fault(PUT, FaultKind.THROTTLE, times=None))

    assert (True, False, True) == (before, after_spent, sandbox.injector.active())


# -- races ----------------------------------------------------------------------------------------


def test_race_runs_once_just_before_the_chosen_attempt(sandbox: Sandbox, calls: Any) -> None:
    """``Race(op, after=1)`` runs its action once, just before the second matching attempt
    reaches the service: it sees the first call's write and not the second's."""
    seen: list[list[str]] = []
    race = Race(PUT, RaceKind.COMPETING_INVOCATION, after=1)
    sandbox.injector.plan_race(race, lambda: seen.append(sorted(sandbox.items())))

    for message_id in ("m-1", "m-2", "m-3"):
        calls.put_item(message_id)

    assert [["m-1"]] == seen
    assert [(1, "passed"), (1, "race:competing_invocation"), (1, "passed"), (1, "passed")] == (
        outcomes(sandbox)
    )
    assert collections.Counter({(PUT, "race:competing_invocation"): 1}) == (
        sandbox.injector.injected
    )


def test_a_race_that_found_nothing_to_act_on_is_not_counted(sandbox: Sandbox, calls: Any) -> None:
    """An actor that found nothing to act on (its action says False: no id known yet, as where
    the handler makes the ids) leaves no trace: not in the attempts, not in the report's
    count of races injected."""
    ran = []
    sandbox.injector.plan_race(Race(PUT, RaceKind.CONSUMER_ADVANCES), lambda: bool(ran.append(1)))

    calls.put_item("m-1")

    assert [1] == ran
    assert [(1, "passed")] == outcomes(sandbox)
    assert collections.Counter() == sandbox.injector.injected


def test_race_counts_sdk_retries_as_attempts(sandbox: Sandbox, calls: Any) -> None:
    """With a throttle on attempt 1, ``Race(op, after=1)`` lands between the SDK's first attempt
    and its retry, inside one call."""
    ran = []
    sandbox.injector.plan(Fault(SEND, FaultKind.THROTTLE, times=1))
    sandbox.injector.plan_race(
        Race(SEND, RaceKind.CONSUMER_ADVANCES, after=1), lambda: ran.append(len(sandbox.messages()))
    )

    calls.send_message()

    assert [0] == ran
    assert [(1, "throttle"), (2, "race:consumer_advances"), (2, "passed")] == outcomes(sandbox)


def test_race_action_is_never_injected(sandbox: Sandbox, calls: Any) -> None:
    """The race's actor runs with injection paused: an always-throttle planned on the same
    operation hits the racing call's attempts but not the actor's own PutItem."""
    sandbox.injector.plan(Fault(PUT, FaultKind.THROTTLE, times=None))
    paused = []

    def rival() -> None:
        paused.append(sandbox.injector.paused)
        calls.put_item("rival", mode="legacy")

    sandbox.injector.plan_race(Race(PUT, RaceKind.COMPETING_INVOCATION), rival)

    with pytest.raises(ClientError):
        calls.put_item("m-1")

    assert ([True], False) == (paused, sandbox.injector.paused)
    assert ["rival"] == sorted(sandbox.items())
    assert [
        (1, "race:competing_invocation"),
        (1, "throttle"),
        (2, "throttle"),
        (3, "throttle"),
    ] == (outcomes(sandbox))


def test_consumer_racing_a_conditional_update_wins(sandbox: Sandbox, calls: Any) -> None:
    """A consumer that advances the record to PROCESSING just before the intake's conditional
    update makes that update fail its condition; ALL_OLD shows the consumer's status."""
    calls.store_pending("m-1")

    def consumer_advances() -> None:
        calls.client("dynamodb").update_item(
            TableName=sandbox.table_name,
            Key={"messageId": {"S": "m-1"}},
            UpdateExpression="SET #status = :processing",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":processing": {"S": "PROCESSING"}},
        )

    sandbox.injector.plan_race(Race(UPDATE, RaceKind.CONSUMER_ADVANCES), consumer_advances)

    with pytest.raises(ClientError) as raised:
        calls.mark_queued("m-1")

    assert "ConditionalCheckFailedException" == raised.value.response["Error"]["Code"]
    assert {"S": "PROCESSING"} == raised.value.response["Item"]["status"]
    assert {"messageId": "m-1", "status": "PROCESSING", "version": 1} == sandbox.items()["m-1"]


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (FaultKind.THROTTLE, "ThrottlingException"),
        (FaultKind.SERVER_ERROR, "InternalFailure"),
        (FaultKind.ACCESS_DENIED, "AccessDeniedException"),
    ],
)
def test_other_json_services_get_generic_errors(
    sandbox: Sandbox, kind: FaultKind, code: str
) -> None:
    """A handler calling a service beyond DynamoDB and SQS (here KMS, target TrentService) can be
    faulted too: the operation is named by its X-Amz-Target, the error has the common shape."""
    sandbox.injector.plan(Fault("trentservice.ListKeys", kind, times=None))
    with sandbox.injector.pause():
        client = sandbox.client("kms")
    with pytest.raises(ClientError) as caught:
        client.list_keys()
    assert code == caught.value.response["Error"]["Code"]
