"""queuecheck-verify --pipeline, as a user runs it: the report names the pipeline and tells a
failure in the pipeline's own words; --save-scenario writes a file that replays the failure."""

import os
import subprocess
import sys
from pathlib import Path

from report.pages import parse

ROOT = Path(__file__).resolve().parents[2]


def run(*args, timeout=600):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "examples"), "HYPOTHESIS_PROFILE": "ci"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


VERIFY = ("-c", "import sys; from model.entrypoints.verify import main; sys.exit(main())")


def test_a_broken_intake_fails_with_a_story_in_its_own_words_and_replays(tmp_path):
    """Exit 1; the report names the pipeline file, the route, the status attribute; the saved
    scenario fails again on replay, on the same invariant. The HTML page tells the same run:
    the failure with its diagram, the record's status attribute, the replay commands."""
    saved = tmp_path / "tickets.toml"
    page_path = tmp_path / "report.html"
    result = run(
        *VERIFY,
        "--pipeline",
        "examples/tickets_unconditional_update.toml",
        "--save-scenario",
        str(saved),
        "--report-html",
        str(page_path),
    )
    assert 1 == result.returncode, result.stderr[-2000:]
    out = result.stdout
    assert "pipeline:   examples/tickets_unconditional_update.toml" in out
    assert "RESULT: FAIL - invariant statuses_only_move_forward broken." in out
    assert "submit POST /tickets {" in out and "ticketStatus=ROUTED" in out
    assert "a consumer moved id-1 from OPEN to IN_PROGRESS" in out
    assert f"HTML report written to {page_path}" in out
    page = parse(page_path.read_text(encoding="utf-8"))
    assert "FAIL" == page.root.one(cls="badge").text()
    first = page.root.find_all("section", "failure")[0]
    assert "statuses_only_move_forward" in first.one("h2").text()
    assert 1 == len(first.find_all("svg"))
    assert "ticketStatus" in first.text()
    replays = first.one("pre", "replay").text()
    assert f"python -m model.scenarios {saved}" in replays
    assert "queuecheck-verify --pipeline examples/tickets_unconditional_update.toml" in replays
    replay = run("-m", "model.scenarios", str(saved))
    assert 1 == replay.returncode, replay.stdout + replay.stderr[-2000:]
    assert "invariant statuses_only_move_forward" in replay.stdout


def test_the_reference_passes_through_its_pipeline_file(tmp_path):
    """pipelines/reference.toml describes the reference; the generic invariants hold."""
    page_path = tmp_path / "pass.html"
    result = run(
        *VERIFY,
        "--pipeline",
        "pipelines/reference.toml",
        "--max-examples",
        "30",
        "--report-html",
        str(page_path),
    )
    assert 0 == result.returncode, result.stdout[-3000:]
    assert "RESULT: PASS" in result.stdout
    assert "checks:     the generic invariants" in result.stdout
    page = parse(page_path.read_text(encoding="utf-8"))
    assert "PASS" == page.root.one(cls="badge").text()
    assert [] == page.root.find_all(cls="failure")
    assert "pipelines/reference.toml" in page.root.find_all("section")[0].text()


def test_a_scenario_with_a_bad_step_is_refused_with_exit_2(tmp_path):
    """A pipeline scenario with an unknown action: one line naming the step, exit 2."""
    scenario = tmp_path / "bad.toml"
    scenario.write_text(
        'name = "bad"\ndescription = "a step nobody knows"\n'
        f'pipeline = "{ROOT / "examples" / "invoices_rest.toml"}"\n[[step]]\ndo = "dance"\n'
    )
    result = run("-m", "model.scenarios", str(scenario))
    assert 2 == result.returncode, result.stdout + result.stderr
    assert "step 1: unknown action 'dance' in 'do'" in result.stderr
    assert 1 == len(result.stderr.strip().splitlines()), result.stderr
