"""Each scenario file catches the broken handlers it is about (tests/stateful/zoo): none only
ever runs green (tests/test_red_twins.py checks that every file is listed here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.scenarios import runner as scenarios
from model.scenarios.format import ScenarioFailed

# scenario file -> the zoo variants it must catch: the bugs it is about (the full matrix of the
# plan scenarios is in the report of issue 4)
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
    "conflicting_payload_is_rejected": ["conflict_as_duplicate", "unconditional_put"],
    "content_derived_ids_deduplicate": ["duplicates_sent_again", "unconditional_put"],
    "crash_between_send_and_update_then_resume": ["no_resume_of_pending", "update_before_send"],
    "duplicate_after_success_sends_nothing": ["duplicates_sent_again", "unconditional_put"],
    "expired_record_is_replaced": ["expired_never_replaced"],
    "invalid_input_writes_nothing": ["attributes_checked_after_storing", "logs_the_event"],
    "put_item_applied_but_lost_still_answers_right": ["no_resume_of_pending"],
    "put_item_failure_writes_nothing": ["access_denied_as_503", "no_retry_after"],
    "record_deleted_before_the_update_is_recreated_by_a_retry": ["unconditional_update"],
    "sqs_access_denied_is_500_without_retry_after": ["access_denied_as_503"],
    "sqs_send_applied_but_lost_queues_twice": ["duplicates_sent_again"],
    "sqs_throttling_within_retries_is_absorbed": ["swallowed_sqs_error", "no_retry_after"],
    "update_item_applied_but_lost_still_answers_right": [
        "exists_condition_update",
        "unconditional_update",
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
