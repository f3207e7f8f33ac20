"""Ctrl-C on a run of an out-of-process intake: one line, exit 130, no runner left."""

from __future__ import annotations

import os
import sys

from runtimes.support import (
    NODE_EXAMPLES,
    ROOT,
    descendants,
    interrupt_once,
    sdk_or_skip,
    still_running,
)

VERIFY = "import sys; from model.entrypoints.verify import main; sys.exit(main())"


def _runners_seen(count: int):
    """A condition: ``count`` node runners have started under the run (each example starts a
    fresh one, so the run is well under way: in an example, maybe mid-invocation)."""
    seen: set[int] = set()

    def under_way(pid: int) -> bool:
        for child in descendants(pid):
            try:
                with open(f"/proc/{child}/cmdline", "rb") as cmdline:
                    if b"node_runner" in cmdline.read():
                        seen.add(child)
            except FileNotFoundError:
                continue
        return len(seen) >= count

    return under_way


def test_ctrl_c_on_a_node_run_is_one_line_and_130_and_leaves_no_runner(tmp_path):
    """It ended in a FlakyStrategyDefinition traceback (exit 1): the interrupted invocation's
    answer was read by liveness's retry in teardown, whose protocol error replaced the
    interrupt. Now teardown does nothing after a Ctrl-C, and the CLI says so in one line."""
    sdk_or_skip()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = interrupt_once(
        [
            sys.executable,
            "-c",
            VERIFY,
            "--pipeline",
            str(NODE_EXAMPLES / "parcels_rest.toml"),
            "--profile",
            "ci",
            "--backend",
            "moto-server",
        ],
        _runners_seen(4),
        cwd=tmp_path,
        env=env,
    )

    assert 130 == run.returncode, run.stderr
    assert "queuecheck verify: interrupted (Ctrl-C); no verdict\n" == run.stderr
    assert "" == run.stdout
    assert run.children, "no process was running under the run when it was interrupted"
    assert [] == still_running(run.children, within_s=10)
