"""The reference answers the same under ``python -O``, which removes every ``assert``: no
answer of the handler may rest on one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]


def test_the_black_box_suite_passes_under_python_o() -> None:
    """Every other test of ``tests/intake`` passes in a process started with ``-O``: pytest
    rewrites the tests' own asserts into plain ``raise``, so they still check, while an assert
    in the reference is gone."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_XDIST", "PYTEST_CURRENT_TEST"))
    }
    # pytest rewrites the asserts of every module of a distribution that registers a pytest11
    # plugin (queuecheck does: reference/ included), which would put them back under -O. Without
    # autoloading it marks only the plugin module named with -p.
    environment["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    done = subprocess.run(
        [
            sys.executable,
            "-O",
            "-P",  # the installed package, not the checkout first on sys.path (tox: the wheel)
            "-m",
            "pytest",
            "tests/intake",
            f"--ignore={HERE}",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "model.entrypoints.plugin",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    report = done.stdout[-3000:] + done.stderr[-2000:]
    assert 0 == done.returncode, report
    # pytest's own word that the interpreter ran without asserts, i.e. that -O took effect
    assert "are you using python -O?" in done.stdout, report
