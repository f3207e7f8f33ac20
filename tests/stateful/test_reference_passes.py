"""The harness verifies the handler under test: the reference, or the one --handler names."""

from hypothesis.stateful import run_state_machine_as_test

from model.machine import machine_for


def test_handler_keeps_every_invariant_under_faults_and_races(handler):
    """Every rule sequence, with every fault kind and race, keeps every invariant and ends live."""
    run_state_machine_as_test(machine_for(handler))
