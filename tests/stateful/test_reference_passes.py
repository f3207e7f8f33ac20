"""The harness verifies the handler under test: the reference, the one --handler names, or the
intake a --pipeline file describes."""

from hypothesis.stateful import run_state_machine_as_test


def test_handler_keeps_every_invariant_under_faults_and_races(intake_machine):
    """Every rule sequence, with every fault kind and race, keeps every invariant and ends live."""
    run_state_machine_as_test(intake_machine)
