"""Ctrl-C on queuecheck-verify: one line, exit 130, no traceback and no verdict."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import pytest
from runtimes.support import interrupt_once

from model.harness import interrupts

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


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_interrupt_lost_in_a_finaliser_is_raised_at_the_next_step(monkeypatch):
    """Where KeyboardInterrupt lands in a GC callback (Hypothesis's GC timer) or a finaliser,
    Python reports it as unraisable and goes on: a third of the runs above went on to a PASS.
    The handler remembers it; the next step raises it again."""
    monkeypatch.setattr(interrupts, "_requested", threading.Event())

    class Finalised:
        def __del__(self):
            interrupts.on_ctrl_c(signal.SIGINT, None)

    interrupts.check()  # nothing asked yet
    Finalised()  # its KeyboardInterrupt is "ignored", as Python does in __del__
    with pytest.raises(KeyboardInterrupt):
        interrupts.check()
