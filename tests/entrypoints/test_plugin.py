"""The pytest plugin as a user runs it: ``pytest tests/stateful/test_reference_passes.py
--handler ... --save-scenario ... --report-html ...`` on a broken handler saves a scenario
that replays red, and writes the page with the failure drawn; on the reference, a PASS page."""

import os
import subprocess
import sys
from pathlib import Path

from report.pages import parse

ROOT = Path(__file__).resolve().parents[2]
TEST = "tests/stateful/test_reference_passes.py"  # what a user runs with the plugin


def run(*args, profile="ci"):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"), "HYPOTHESIS_PROFILE": profile}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_a_failing_test_saves_its_run_and_draws_it(tmp_path):
    saved, page_path = tmp_path / "failing.toml", tmp_path / "report.html"
    result = run(
        "-m", "pytest", "-p", "no:cacheprovider", "-q", TEST,
        "--handler", "stateful.zoo:swallowed_sqs_error",
        "--save-scenario", str(saved), "--report-html", str(page_path),
    )  # fmt: skip
    assert 1 == result.returncode, result.stdout[-3000:]
    assert f"the failing run is saved as the scenario {saved}" in result.stdout
    assert f"queuecheck: HTML report written to {page_path}" in result.stdout
    page = parse(page_path.read_text(encoding="utf-8"))
    assert "FAIL" == page.root.one(cls="badge").text()
    (section, *_) = page.root.find_all("section", "failure")
    assert "queued_records_were_sent" in section.one("h2").text()
    assert 1 == len(section.find_all("svg"))
    replay = run("-m", "model.scenarios", str(saved))
    assert 1 == replay.returncode, replay.stdout[-2000:] + replay.stderr[-2000:]
    assert "queued_records_were_sent" in replay.stdout


def test_a_passing_session_writes_a_pass_page(tmp_path):
    """On the reference (the dev profile: a PASS needs no fixed run, and it is the quick one)."""
    page_path = tmp_path / "report.html"
    result = run(
        "-m", "pytest", "-p", "no:cacheprovider", "-q", TEST,
        "--report-html", str(page_path),
        profile="dev",
    )  # fmt: skip
    assert 0 == result.returncode, result.stdout[-3000:]
    page = parse(page_path.read_text(encoding="utf-8"))
    assert "PASS" == page.root.one(cls="badge").text()
    assert [] == page.root.find_all(cls="failure")
    stats = {
        li.attributes["data-stat"]: li.one("b").text()
        for li in page.root.find_all("li")
        if "data-stat" in li.attributes
    }
    assert int(stats["examples"].replace(",", "")) > 0, stats
