"""The harness fails on every broken handler of the zoo, under the profile in force (ci in CI)."""

import importlib

import pytest
from hypothesis.stateful import run_state_machine_as_test

from model.machine import machine_for

zoo = importlib.import_module("stateful.zoo")


@pytest.mark.zoo
@pytest.mark.parametrize("variant", sorted(zoo.VARIANTS))
def test_harness_catches_broken_variant(variant, sandbox):
    """The state machine finds a failing run for the variant, and the failure names an invariant."""
    bug, invariant = zoo.VARIANTS[variant]
    with pytest.raises(AssertionError) as caught:
        run_state_machine_as_test(machine_for(getattr(zoo, variant)))
    message = str(caught.value)
    assert "invariant " in message, f"{variant} ({bug}) failed without naming an invariant: {message[:500]}"
