"""Ctrl-C on queuecheck-verify: one line, exit 130, no traceback and no verdict."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from runtimes.support import interrupt_once

ROOT = Path(__file__).resolve().parents[2]
VERIFY = "import sys; from model.entrypoints.verify import main; sys.exit(main())"
# The reference, marking the run as under way on its first invocation.
MARKING_HANDLER = """
from pathlib import Path

from reference.handler import lambda_handler


def handler(event, context):
    Path("under-way").touch()
    return lambda_handler(event, context)
"""


def test_ctrl_c_on_a_run_is_one_line_and_130(tmp_path):
    (tmp_path / "marking.py").write_text(MARKING_HANDLER)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "HYPOTHESIS_PROFILE": "ci",
    }
    run = interrupt_once(
        [sys.executable, "-c", VERIFY, "--handler", "marking:handler"],
        lambda _pid: (tmp_path / "under-way").exists(),
        cwd=tmp_path,
        env=env,
    )

    assert 130 == run.returncode, run.stderr
    assert "queuecheck verify: interrupted (Ctrl-C); no verdict\n" == run.stderr
    assert "" == run.stdout
