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


def test_a_handler_that_raises_while_imported_fails_the_tests(tmp_path):
    """Its own code failed (here a setting read at import): the tests fail (status 1) naming
    the exception, as a verdict; a handler that is not there at all is a usage error (4)."""
    (tmp_path / "raises_at_import.py").write_text("import os\nT = os.environ['QC_NEVER_SET']\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "HYPOTHESIS_PROFILE": "ci"}
    common = ["-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", TEST]
    raised = subprocess.run(
        [sys.executable, *common, "--handler", "raises_at_import:handler"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert 1 == raised.returncode, raised.stdout[-2000:]
    assert "importing raises_at_import raised KeyError: 'QC_NEVER_SET'" in raised.stdout
    missing = subprocess.run(
        [sys.executable, *common, "--handler", "qc_no_such_module:handler"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert 4 == missing.returncode, missing.stdout[-2000:] + missing.stderr[-2000:]


def test_a_report_path_that_cannot_be_written_ends_the_session_at_once(tmp_path):
    missing = tmp_path / "missing" / "report.html"
    result = run(
        "-m", "pytest", "-p", "no:cacheprovider", "-q", TEST, "--report-html", str(missing)
    )
    assert 2 == result.returncode, result.stdout[-2000:]
    assert f"--report-html {missing}: the folder {missing.parent} does not exist" in (
        result.stdout + result.stderr
    )
    assert "Traceback" not in result.stdout + result.stderr
