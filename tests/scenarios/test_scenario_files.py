"""Every scenario file holds against the handler under test, and none contradicts the model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from model.scenarios import runner as scenarios

# The checkout's files, found from this test's own place (the package may be installed
# elsewhere, as under tox).
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
FILES = scenarios.files(SCENARIOS)
PLAN = (
    "status_update_marks_queued_only_after_the_send",
    "conditional_update_never_overwrites_a_consumer",
    "sqs_failure_leaves_record_pending",
    "status_update_throttling_absorbed_or_reported",
    "metadata_survives_status_updates",
    "intake_flow_from_validation_to_status_update",
)


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_scenario_holds(path, handler, sandbox):
    """The handler does what the file says at every step, keeps every invariant of the model
    after each one (and liveness where asked), and every expectation is one the model allows."""
    scenarios.run(scenarios.load(path), handler)


def test_the_test_plan_and_ten_more_are_there():
    """The six scenarios of the test plan exist under their names, with at least ten more."""
    names = {path.stem for path in FILES}
    assert set() == set(PLAN) - names
    assert len(names - set(PLAN)) >= 10


def test_the_readme_lists_every_scenario():
    """Reviewers find every file in scenarios/README.md, and nothing listed there is missing."""
    readme = (SCENARIOS / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(\w+\.toml)` \|", readme, flags=re.MULTILINE))
    assert {path.name for path in FILES} == listed


def test_the_readme_example_is_a_scenario_that_holds(tmp_path, reference_handler, sandbox):
    """The annotated example reviewers learn the format from is itself valid, and true."""
    readme = (SCENARIOS / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", readme, flags=re.DOTALL)
    assert example is not None
    path = tmp_path / "readme_example.toml"
    path.write_text(example.group(1), encoding="utf-8")
    scenarios.run(scenarios.load(path), reference_handler)
