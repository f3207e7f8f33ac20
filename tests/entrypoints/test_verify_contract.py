"""queuecheck-verify against the contract, as a user runs it on a broken handler: exit 1, the
story in the terminal, a scenario file per broken invariant that replays, and the HTML page.
(tests/pipelines/test_verify_with_a_pipeline.py does the same for a pipeline file.)"""

import os
import subprocess
import sys
from pathlib import Path

from report.pages import parse

ROOT = Path(__file__).resolve().parents[2]
VERIFY = ("-c", "import sys; from model.entrypoints.verify import main; sys.exit(main())")


def run(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"), "HYPOTHESIS_PROFILE": "ci"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_a_contract_fail_reports_saves_and_draws_every_broken_invariant(tmp_path):
    """exception_text_in_error (the zoo's) leaks an exception's text: the report names the
    invariant, each broken invariant is saved (the first at the path given) and drawn in the
    page, and the saved run replays red on the same invariant."""
    saved, page_path = tmp_path / "failing.toml", tmp_path / "report.html"
    result = run(
        *VERIFY,
        "--handler",
        "stateful.zoo:exception_text_in_error",
        "--max-examples",
        "40",
        "--save-scenario",
        str(saved),
        "--report-html",
        str(page_path),
        cwd=tmp_path,
    )
    assert 1 == result.returncode, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "checks:     queuecheck's contract" in out
    assert "RESULT: FAIL - invariant errors_are_documented_and_leak_nothing broken." in out
    assert "handler:    stateful.zoo:exception_text_in_error" in out
    files = sorted(p.name for p in tmp_path.glob("failing*.toml"))
    assert "failing.toml" in files, out[-3000:]
    page = parse(page_path.read_text(encoding="utf-8"))
    assert "FAIL" == page.root.one(cls="badge").text()
    sections = page.root.find_all("section", "failure")
    assert len(files) == len(sections)
    assert "errors_are_documented_and_leak_nothing" in sections[0].one("h2").text()
    for section in sections:
        assert 1 == len(section.find_all("svg"))
    replay = run("-m", "model.scenarios", str(saved), cwd=tmp_path)
    assert 1 == replay.returncode, replay.stdout[-2000:] + replay.stderr[-2000:]
    assert "errors_are_documented_and_leak_nothing" in replay.stdout


def test_an_output_path_that_cannot_be_written_is_one_line_before_any_run(tmp_path):
    """--report-html or --save-scenario into a missing folder, or onto a folder: one line,
    exit 2, no traceback, nothing written, before the run starts."""
    for option, path, problem in (
        ("--report-html", tmp_path / "missing" / "r.html", "does not exist"),
        ("--save-scenario", tmp_path / "missing" / "f.toml", "does not exist"),
        ("--report-html", tmp_path, "is a folder"),
    ):
        result = run(*VERIFY, option, str(path), cwd=tmp_path)
        assert 2 == result.returncode, result.stderr[-2000:]
        assert "" == result.stdout
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"queuecheck verify: {option} {path}: "), line
        assert problem in line
    assert [] == sorted(p.name for p in tmp_path.iterdir())
