"""A scenario cannot contradict the model: statically where the model alone decides a step, and
on the actual run for every step, with a message naming the file, the step and both sides."""

from __future__ import annotations

import pytest

from model.scenarios.check import load
from model.scenarios.format import ModelContradiction
from model.scenarios.runner import run

ORDER = 'message = { messageId = "order-1", type = "order.created", payload = { n = 1 } }'


def test_duplicate_expected_to_be_accepted_again_is_rejected_before_running(scenario_file):
    """A replay of a QUEUED message must be 200 duplicate; a file expecting 202 is refused."""
    path = scenario_file(f"""
        [[step]]
        do = "submit"
        {ORDER}
        expect.status = 202

        [[step]]
        do = "retry"
        of = 1
        expect.status = 202
        expect.duplicate = false
    """)
    with pytest.raises(ModelContradiction) as caught:
        load(path)
    message = str(caught.value)
    assert "under_test.toml, step 2 (retry of step 1)" in message
    assert "expects 202 duplicate=false" in message
    assert "allows only 200 duplicate=true" in message


def test_conflict_expected_to_succeed_is_rejected_before_running(scenario_file):
    """Other content under a used id is 409 IDEMPOTENCY_CONFLICT, whatever the file says."""
    path = scenario_file(f"""
        [[step]]
        do = "submit"
        {ORDER}

        [[step]]
        do = "submit"
        message = {{ messageId = "order-1", type = "order.created", payload = {{ n = 2 }} }}
        expect.status = 202
    """)
    with pytest.raises(
        ModelContradiction, match=r"step 2 \(submit\).*allows only 409 IDEMPOTENCY_CONFLICT"
    ):
        load(path)


def test_invalid_request_has_one_allowed_answer(scenario_file):
    """An invalid request's answer is decided by the contract alone, faults or not."""
    path = scenario_file("""
        [[step]]
        do = "plan fault"
        operation = "dynamodb.PutItem"
        kind = "throttle"
        times = "always"

        [[step]]
        do = "submit"
        message = { type = "9lives", payload = {} }
        expect.status = 503
    """)
    with pytest.raises(
        ModelContradiction,
        match=r"step 2 \(submit\).*invalid, so the model allows only 400 VALIDATION_ERROR",
    ):
        load(path)


def test_record_state_the_model_decides_cannot_be_contradicted(scenario_file):
    """After a calm accepted submission the record is QUEUED with one message, not PENDING."""
    path = scenario_file(f"""
        [[step]]
        do = "submit"
        {ORDER}
        expect.status = 202
        expect.record.status = "PENDING"
    """)
    with pytest.raises(
        ModelContradiction, match=r"step 1 \(submit\).*expects record status PENDING.*QUEUED"
    ):
        load(path)


def test_a_consumer_cannot_skip_the_lifecycle(scenario_file):
    """A consumer moves a QUEUED record to PROCESSING, never straight to DELIVERED."""
    path = scenario_file(f"""
        [[step]]
        do = "submit"
        {ORDER}

        [[step]]
        do = "another actor"
        actor = "consumer"
        status = "DELIVERED"
    """)
    with pytest.raises(ModelContradiction, match=r"step 2 \(another actor\).*QUEUED -> PROCESSING"):
        load(path)


def test_contradiction_only_the_run_shows_is_caught_on_the_run(
    scenario_file, reference_handler, sandbox
):
    """Where a fault leaves the state open, the model check happens on what actually happened:
    an applied-but-lost send still completes the message, so its replay is a duplicate."""
    path = scenario_file(f"""
        [[step]]
        do = "plan fault"
        operation = "sqs.SendMessage"
        kind = "applied_lost"

        [[step]]
        do = "submit"
        label = "lost answer"
        {ORDER}

        [[step]]
        do = "clear faults"

        [[step]]
        do = "retry"
        of = "lost answer"
        expect.status = 202
        expect.duplicate = false
    """)
    scenario = load(path)  # statically open: the file does not say how step 2 ended
    with pytest.raises(ModelContradiction) as caught:
        run(scenario, reference_handler)
    message = str(caught.value)
    assert "under_test.toml, step 4 (retry of step 2)" in message
    assert "record order-1 QUEUED, same content before the step and nothing injected" in message
    assert "allows only 200 duplicate=true" in message


def test_competing_invocation_expectation_is_checked_against_the_model(
    scenario_file, reference_handler, sandbox
):
    """What a competing invocation must answer is the model's call too."""
    path = scenario_file(f"""
        [[step]]
        do = "plan race"
        operation = "dynamodb.UpdateItem"
        kind = "competing_invocation"

        [[step]]
        do = "submit"
        {ORDER}
        expect.competitor = {{ status = 200, duplicate = true }}
    """)
    with pytest.raises(
        ModelContradiction,
        match=r"(?s)step 2 \(submit\).*competing invocation to answer 200 duplicate=true, "
        r"but the model allows only 202",
    ):
        run(load(path), reference_handler)
