"""How the state machine chooses its next rule: Hypothesis's choice, without swarm testing.

Hypothesis's rule-based machines switch a random subset of rules off in each example (swarm
testing), and draw each rule's on/off flag the first time that rule is considered, in the
middle of the run. Once a run fails, deleting a step moves those draws, so the shrinker can
rarely delete the step that made them: failing stories stayed long, with steps that played no
part, and shrinking them took most of the time to a report. Every bug in the zoo needs
submissions *and* faults or races in one run, which swarm testing often switches off.

Measured on the zoo, 14 variants (``benchmarks/README.md`` has the runs): with every rule on,
the examples until the first failure went from 1504 to 997 in total over 10 seeds, and the
slowest variant's median time to a shrunk report from 16.0 s to 7.3 s over 5 seeds.

This replaces the machine's ``_rules_strategy``, which is not public API: ``install`` refuses
to run, rather than silently doing nothing, if a Hypothesis release moves it.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, RuleStrategy


class EveryRuleEnabled:
    """Stands in for Hypothesis's feature flags: every rule is on, and asking draws nothing."""

    def is_enabled(self, name: Any) -> bool:
        return True

    def __repr__(self) -> str:
        return "EveryRuleEnabled()"


class RulesWithoutSwarm(RuleStrategy):
    """Hypothesis's own rule strategy (same order, same preconditions, same bundles), with the
    swarm-testing flags replaced by ``EveryRuleEnabled``."""

    def __init__(self, machine: RuleBasedStateMachine) -> None:
        super().__init__(machine)
        _require(self, "enabled_rules_strategy")
        # Typed as FeatureFlags, whose private module this avoids; only is_enabled is called.
        self.enabled_rules_strategy = st.just(EveryRuleEnabled())  # type: ignore[arg-type]


def install(machine: RuleBasedStateMachine) -> None:
    """Make ``machine`` choose its rules with every rule enabled."""
    _require(machine, "_rules_strategy")
    machine._rules_strategy = RulesWithoutSwarm(machine)


def _require(owner: object, attribute: str) -> None:
    if not hasattr(owner, attribute):
        raise RuntimeError(
            f"this Hypothesis release has no {type(owner).__name__}.{attribute}, which "
            "queuecheck replaces to turn swarm testing off; install the version in "
            "constraints.txt, or update model/rule_choice.py"
        )
