"""The report's data: values a test builds from a few fields, that refuse what no run records."""

from __future__ import annotations

import pytest

from model.core.plans import FaultKind, RaceKind
from model.report.trace import (
    FAULT_KINDS,
    RACE_KINDS,
    Broken,
    Call,
    Coverage,
    Failure,
    Invocation,
    Mark,
    Report,
    Stats,
    Step,
)


def test_an_empty_report_is_a_pass() -> None:
    """Every field has a default, and a run without failures is a PASS."""
    assert "PASS" == Report().verdict


def test_a_report_with_a_failure_is_a_fail() -> None:
    """The verdict follows from the failures, so the two cannot disagree."""
    assert "FAIL" == Report(failures=[Failure("liveness")]).verdict


def test_the_kinds_are_the_injectors() -> None:
    """The heatmap's columns are the fault and race kinds the harness injects (the report does
    not import the core, so this keeps the two lists equal)."""
    assert [str(kind) for kind in FaultKind] == list(FAULT_KINDS)
    assert [str(kind) for kind in RaceKind] == list(RACE_KINDS)


@pytest.mark.parametrize("outcome", ["passed", *FAULT_KINDS, "error:ValidationException"])
def test_a_call_takes_every_recorded_outcome(outcome: str) -> None:
    """passed, each fault kind, and a service's own error."""
    assert outcome == Call("A", "PutItem", outcome=outcome).outcome


@pytest.mark.parametrize("outcome", ["ok", "race:consumer_advances", "Throttle", ""])
def test_a_call_refuses_an_outcome_no_run_records(outcome: str) -> None:
    """A race is a Mark between calls, not an outcome; misspelt kinds are refused."""
    with pytest.raises(ValueError, match="outcome"):
        Call("A", "PutItem", outcome=outcome)


def test_call_of_reads_the_injectors_spelling() -> None:
    """``sqs.SendMessage`` is split into service and operation."""
    assert Call("A", "SendMessage", "sqs", 2, "throttle") == Call.of(
        "A", "sqs.SendMessage", 2, "throttle"
    )


def test_a_call_must_name_an_invocation_of_its_step() -> None:
    """Its arrow starts on that invocation's lane."""
    with pytest.raises(ValueError, match="not an invocation"):
        Step(1, "invoke", "x", invocations=[Invocation("A", "r")], calls=[Call("B", "GetItem")])


def test_a_mark_sits_between_the_steps_calls() -> None:
    """Before call 0 .. after the last call; nothing beyond."""
    calls = [Call("A", "GetItem")]
    Step(1, "invoke", "x", [Invocation("A", "r")], calls, [Mark("race", 1, "after the last")])
    with pytest.raises(ValueError, match="mark before call 2"):
        Step(1, "invoke", "x", [Invocation("A", "r")], calls, [Mark("race", 2, "beyond")])


def test_the_story_defaults_to_the_steps_lines() -> None:
    """A failure built from steps tells them as its story."""
    steps = [Step(1, "fault", "plan throttle"), Step(2, "clear", "faults stop")]
    assert ("plan throttle", "faults stop") == Failure("liveness", steps=steps).story


def test_the_broken_step_is_the_one_that_says_so() -> None:
    """The diagram highlights it."""
    broke = Step(2, "clear", "b", broke=Broken("liveness", ["stuck"]))
    assert broke == Failure("liveness", steps=[Step(1, "fault", "a"), broke]).broken_step
    assert Failure("liveness", steps=[Step(1, "fault", "a")]).broken_step is None


def test_values_do_not_change_once_built() -> None:
    """Lists given become tuples and mappings are copied."""
    records = {"id-1": {"status": "PENDING"}}
    step = Step(1, "invoke", "x", records_after=records)
    records["id-1"]["status"] = "QUEUED"
    assert {"id-1": {"status": "PENDING"}} == step.records_after
    assert isinstance(Failure("x", steps=[step]).steps, tuple)


def test_coverage_from_the_machines_counter() -> None:
    """``STATS.injected`` keeps races as ``race:<kind>``; they go to their own table."""
    coverage = Coverage.from_injected(
        {("sqs.SendMessage", "throttle"): 3, ("dynamodb.UpdateItem", "race:consumer_advances"): 2}
    )
    assert {("sqs.SendMessage", "throttle"): 3} == coverage.faults
    assert {("dynamodb.UpdateItem", "consumer_advances"): 2} == coverage.races
    assert ("dynamodb.UpdateItem", "sqs.SendMessage") == coverage.operations


def test_a_kind_the_report_does_not_know_gets_a_column_too() -> None:
    """A newer injector's kind shows after the known ones instead of vanishing."""
    coverage = Coverage(faults={("sqs.SendMessage", "slow_down"): 1})
    assert (*FAULT_KINDS, "slow_down") == coverage.fault_kinds


def test_steps_per_second() -> None:
    """Steps over seconds, and 0 rather than a division by zero."""
    assert 50.0 == Stats(steps=100, seconds=2.0).steps_per_s
    assert 0.0 == Stats(steps=100).steps_per_s
