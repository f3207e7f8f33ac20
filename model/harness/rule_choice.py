"""How the state machine chooses its next rule: Hypothesis's choice, without swarm testing,
and with some rules drawn more often than others.

Hypothesis's rule-based machines switch a random subset of rules off in each example (swarm
testing). Each time a rule is considered, its on/off flag is a recorded choice, so how many
choices a step makes depends on the steps before it. Deleting a step can then shift the choices
of every later step, and the shrinker's attempts to delete steps mostly fail: failing stories
kept steps that played no part, and shrinking took most of the time to a report. (Drawing
every flag at the start of a run did not help; switching the flags off did.) Swarm testing
buys little here: every bug in the zoo needs submissions *and* faults or races in one run,
and switching rules off makes that combination rarer.

Measured with ``tox -e bench`` (14 zoo variants, 5 seeds each), before and after: the slowest
variant's median time to a shrunk report went from 9.8 s to 6.7 s, the slowest single run
from 35.7 s to 13.5 s, and the sum of the 14 medians from 76.8 s to 45.6 s. The first
failure also comes sooner: over 10 other seeds per variant, generation only, 938 examples
in all until it instead of 1507, and no miss instead of one (``unconditional_update``,
not found within the ci profile's 100 examples on one seed).

Weights repeat a rule in the list Hypothesis samples from; the order stays Hypothesis's, so
the rule every step shrinks towards (the first: for the intake machine, ``clear_faults``, a
step with no arguments that costs nothing to run and is easy to delete) is unchanged. Putting a
rule that submits first instead made the first failure come sooner but the shrinking twice as
long (every step the shrinker simplified became a handler invocation). Which rules the
intake machine weights, and what that bought: ``RULE_WEIGHTS`` in ``model/harness/machine.py``.

This replaces the machine's ``_rules_strategy``, which is not public API: ``install`` refuses
to run, rather than silently doing nothing, if a Hypothesis release moves it.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    swarm-testing flags replaced by ``EveryRuleEnabled``, and each rule named in ``weights``
    drawn that many times as often as the others."""

    def __init__(self, machine: RuleBasedStateMachine, weights: Mapping[str, int]) -> None:
        super().__init__(machine)
        for attribute in ("enabled_rules_strategy", "rules_strategy", "_enabled_rules_strategy"):
            _require(self, attribute)
        # Typed as FeatureFlags, whose private module this avoids; only is_enabled is called.
        self.enabled_rules_strategy = st.just(EveryRuleEnabled())  # type: ignore[arg-type]
        if weights:
            self.rules = [
                rule for rule in self.rules for _ in range(weights.get(rule.function.__name__, 1))
            ]
            self.rules_strategy = st.sampled_from(self.rules)
            self._enabled_rules_strategy = self.rules_strategy.filter(self._rule_is_enabled)


def install(machine: RuleBasedStateMachine, weights: Mapping[str, int] | None = None) -> None:
    """Make ``machine`` choose its rules with every rule enabled, some more often."""
    _require(machine, "_rules_strategy")
    machine._rules_strategy = RulesWithoutSwarm(machine, weights or {})


def _require(owner: object, attribute: str) -> None:
    if not hasattr(owner, attribute):
        raise RuntimeError(
            f"this Hypothesis release has no {type(owner).__name__}.{attribute}, which "
            "queuecheck replaces to turn swarm testing off; install the version in "
            "constraints.txt, or update model/harness/rule_choice.py"
        )
