"""Every check and every scenario file has a red twin: a broken handler a test shows it failing.

The checks are collected from where they are defined (the contract's and the generic
``INVARIANTS``, the two serial-order checks, ``liveness`` and ``handler_always_answers``), the
scenario files from ``scenarios/``; the red twins from the tables the catching tests run:
``zoo.VARIANTS`` (tests/stateful/test_zoo_is_caught.py), the broken examples (their first runs,
and the later runs of a report that ignores what it found), and the zoo judged by the
reference's pipeline file (tests/pipelines/test_examples.py), and ``CATCHES``
(tests/scenarios/test_zoo_variants.py). A new invariant or scenario without one fails here.

A check counts once a table names it as an expected catch; where a table names alternatives
("a or b"), the catching test accepts either, so such a check is only as proven as the order
dependence the table's comments explain.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path

from model.core import generic, invariants, linearize, serial
from pipelines import test_examples as examples
from scenarios import test_zoo_variants as scenario_catches

zoo = importlib.import_module("stateful.zoo")
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
EITHER_JUDGE = {"liveness", "handler_always_answers"}  # the machine's own, whatever the judge
CONTRACT_CHECKS = {check.__name__ for check in invariants.INVARIANTS} | {
    linearize.a_serial_order_explains_them.__name__
}
GENERIC_CHECKS = {check.__name__ for check in generic.INVARIANTS} | {
    serial.a_serial_order_explains_them.__name__
}
# Checks still without a red twin, each with why: adding one makes the test below fail until the
# entry goes, so this set only shrinks.
KNOWN_GAPS: set[str] = set()


def _checks(expected: Iterable[str]) -> set[str]:
    """The check names in expected catches ("a or b", "name (where in the invocation)")."""
    return {
        name.split(" (")[0] for catch in expected for name in catch.split(" or ") if name.strip()
    }


def _contract_twins() -> set[str]:
    return _checks(caught for _, caught in zoo.VARIANTS.values())


def _generic_runs() -> list[set[str]]:
    """The expected catches of each run of a broken intake by the generic judge: the broken
    examples' first runs and later ones, the zoo judged by the reference's pipeline file."""
    return [
        *examples.BROKEN.values(),
        *(expected for _, expected in examples.LATER_RUNS.values()),
        *examples.ZOO_BY_THE_REFERENCE_FILE.values(),
    ]


def _generic_twins() -> set[str]:
    return _checks(name for names in _generic_runs() for name in names)


def test_every_contract_check_is_the_expected_catch_of_a_zoo_variant():
    """Each of the contract's checks is named by the zoo's table as what catches some variant."""
    assert set() == CONTRACT_CHECKS - _contract_twins()


def test_every_generic_check_is_the_expected_catch_of_a_broken_intake():
    """Each generic check is named as what catches a broken example or a zoo variant judged by
    the reference's pipeline file, save the known gaps."""
    assert KNOWN_GAPS == GENERIC_CHECKS - _generic_twins()


def test_liveness_and_handler_always_answers_each_catch_a_broken_handler():
    """The machine's own checks, held whatever the judge, each catch some broken handler."""
    assert set() == EITHER_JUDGE - (_contract_twins() | _generic_twins())


def test_liveness_alone_is_the_expected_catch_of_some_run():
    """Some run of a broken handler is caught by liveness and by nothing else the tables accept:
    named only as one of two alternatives, it would be as proven as the other."""
    runs = [*_generic_runs(), *({caught} for _, caught in zoo.VARIANTS.values())]
    assert {"liveness"} in [_checks(expected) for expected in runs]


def test_every_table_names_only_checks_that_exist():
    """A renamed check cannot leave a table naming a red twin for something no longer checked."""
    known = CONTRACT_CHECKS | GENERIC_CHECKS | EITHER_JUDGE
    assert set() == _contract_twins() - CONTRACT_CHECKS - EITHER_JUDGE
    assert set() == _generic_twins() - known


def test_every_scenario_file_fails_on_some_zoo_variant():
    """Each scenario file is listed with the zoo variants it fails on; none only runs green."""
    files = sorted(path.stem for path in SCENARIOS.glob("*.toml"))
    assert files == sorted(scenario_catches.CATCHES)
    assert [] == [name for name, variants in scenario_catches.CATCHES.items() if not variants]
    named = {v for vs in scenario_catches.CATCHES.values() for v in vs}
    # a scenario may name a zoo handler the state machine's table leaves out (its docstring
    # says why), so the handler must exist, not be in VARIANTS
    assert set() == {v for v in named if not callable(getattr(zoo, v, None))}
