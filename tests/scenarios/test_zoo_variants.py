"""Each scenario of the test plan catches the broken handlers it is about (tests/stateful/zoo)."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.scenarios import runner as scenarios
from model.scenarios.format import ScenarioFailed

# plan scenario -> the zoo variants it must catch (the full matrix is in the report of issue 4)
CATCHES = {
    "status_update_marks_queued_only_after_the_send": [
        "update_before_send",
        "unconditional_update",
    ],
    "conditional_update_never_overwrites_a_consumer": [
        "unconditional_update",
        "put_item_for_status",
    ],
    "sqs_failure_leaves_record_pending": ["rollback_marks_failed", "swallowed_sqs_error"],
    "status_update_throttling_absorbed_or_reported": [
        "success_after_failed_update",
        "no_retry_after",
    ],
    "metadata_survives_status_updates": ["put_item_for_status", "unconditional_put"],
    "intake_flow_from_validation_to_status_update": [
        "conflict_as_duplicate",
        "no_resume_of_pending",
    ],
    "interleaved_submissions_have_a_serial_order": [
        "condition_failure_as_own",
        "check_then_act_dedupe",
    ],
}
PAIRS = [(name, variant) for name, variants in CATCHES.items() for variant in variants]


@pytest.mark.zoo
@pytest.mark.parametrize(("name", "variant"), PAIRS, ids=[f"{n}-{v}" for n, v in PAIRS])
def test_plan_scenario_fails_on_the_broken_variant(name, variant, zoo, sandbox):
    """The scenario, green on the reference, fails on the variant as a handler failure (not as a
    contradiction of the model), at a step the message names."""
    scenario = scenarios.load(Path(__file__).resolve().parents[2] / "scenarios" / f"{name}.toml")
    with pytest.raises(ScenarioFailed) as caught:
        scenarios.run(scenario, getattr(zoo, variant))
    assert f"{name}.toml, step " in str(caught.value) or f"{name}.toml, liveness" in str(
        caught.value
    )
