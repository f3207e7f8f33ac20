"""The machine chooses rules without swarm testing (model/harness/rule_choice.py says why).

Hypothesis's swarm testing starts each example by drawing how likely a rule is to be off: one
integer choice between 0 and 254. These tests run short machines of the reference and count
such choices in what each example drew; none of the harness's own strategies draws that range.
"""

import collections

import pytest
from hypothesis import Phase, settings
from hypothesis.control import current_build_context
from hypothesis.stateful import RuleStrategy, run_state_machine_as_test

from model.harness import rule_choice
from model.harness.machine import IntakeMachine, machine_for

SHORT_RUNS = settings(
    max_examples=5,
    stateful_step_count=5,
    phases=[Phase.generate],
    derandomize=True,
    database=None,
    deadline=None,
)


def is_a_swarm_rate(node) -> bool:
    constraints = node.constraints
    return (
        node.type == "integer"
        and constraints.get("min_value") == 0
        and constraints.get("max_value") == 254
    )


def swarm_rates_drawn(machine_class: type[IntakeMachine]) -> list[int]:
    """For each example of a short run: how many swarm rates it drew."""
    counts = []

    class Recording(machine_class):
        def teardown(self):
            nodes = current_build_context().data.nodes
            counts.append(sum(1 for node in nodes if is_a_swarm_rate(node)))
            super().teardown()

    run_state_machine_as_test(Recording, settings=SHORT_RUNS)
    return counts


def test_the_machine_draws_no_swarm_testing_choices(handler, sandbox):
    counts = swarm_rates_drawn(machine_for(handler))
    assert counts
    assert [0] * len(counts) == counts


def test_hypothesis_own_rule_choice_draws_swarm_testing_choices(handler, sandbox):
    """The control, so the test above can fail: Hypothesis's own rule strategy draws a swarm
    rate in every example. If this fails, Hypothesis changed how it draws swarm testing and
    the check above no longer looks for the right thing."""

    class WithSwarm(machine_for(handler)):
        def __init__(self):
            super().__init__()
            self._rules_strategy = RuleStrategy(self)

    counts = swarm_rates_drawn(WithSwarm)
    assert counts
    assert [] == [count for count in counts if count < 1]


def test_install_refuses_a_hypothesis_without_the_attribute_it_replaces(handler, sandbox):
    machine = machine_for(handler)()
    del machine._rules_strategy
    with pytest.raises(RuntimeError, match=r"_rules_strategy.*constraints\.txt"):
        rule_choice.install(machine)


def rules_run(machine_class: type[IntakeMachine]) -> collections.Counter[str]:
    """How often each rule ran in a short run (its story's actions)."""
    actions: collections.Counter[str] = collections.Counter()

    class Counting(machine_class):
        def teardown(self):
            actions.update(step.action for step in self.story)
            super().teardown()

    run_state_machine_as_test(Counting, settings=SHORT_RUNS)
    return actions


def test_a_weighted_rule_is_drawn_that_many_times_as_often(handler, sandbox):
    """The same short runs with clear_faults weighted 30 and unweighted: weighted, it is most
    of the steps; unweighted, one rule among a dozen."""

    class Weighted(machine_for(handler)):
        def __init__(self):
            super().__init__()
            rule_choice.install(self, {"clear_faults": 30})

    class Unweighted(machine_for(handler)):
        def __init__(self):
            super().__init__()
            rule_choice.install(self, {})

    weighted, unweighted = rules_run(Weighted), rules_run(Unweighted)
    assert weighted["clear"] > sum(weighted.values()) / 2, weighted
    assert unweighted["clear"] < sum(unweighted.values()) / 3, unweighted
