"""queuecheck-verify against the contract, as a user runs it on a broken handler: exit 1, the
story in the terminal, a scenario file per broken invariant that replays, and the HTML page."""

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
    """update_before_send (the zoo's) breaks several invariants: each is named in the report,
    saved beside the first scenario file, drawn in the page; the first replays red."""
    saved, page_path = tmp_path / "failing.toml", tmp_path / "report.html"
    result = run(
        *VERIFY,
        "--handler",
        "stateful.zoo:update_before_send",
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
    assert "RESULT: FAIL" in out
    files = sorted(p.name for p in tmp_path.glob("failing*.toml"))
    assert len(files) >= 2, out[-3000:]
    assert "failing.toml" in files
    page = parse(page_path.read_text(encoding="utf-8"))
    assert "FAIL" == page.root.one(cls="badge").text()
    sections = page.root.find_all("section", "failure")
    assert len(files) == len(sections)
    for section in sections:
        assert 1 == len(section.find_all("svg"))
        invariant = section.one("h2").text()
        assert invariant.split()[-1].split(" (")[0] in out or invariant in out
    replay = run("-m", "model.scenarios", str(saved), cwd=tmp_path)
    assert 1 == replay.returncode, replay.stdout[-2000:] + replay.stderr[-2000:]
    assert "invariant " in replay.stdout
