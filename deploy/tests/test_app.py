"""``python app.py``, as the CDK CLI runs it, synthesizes the stack the other tests check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parents[1]


def test_cdk_json_runs_app_py():
    """``cdk.json`` tells the CLI to run ``python app.py`` from the deploy folder."""
    assert json.loads((DEPLOY_DIR / "cdk.json").read_text())["app"] == "python app.py"


def test_app_py_synthesizes_the_same_template(synthesized, app_context, tmp_path):
    """Run the way the CLI runs it (context and output folder in the environment), the app
    writes a template identical to the tested one, asset hash included: staging the code
    twice gives the same bytes.
    """
    env = {
        **os.environ,
        "CDK_OUTDIR": str(tmp_path),
        "CDK_CONTEXT_JSON": json.dumps(app_context),
    }
    subprocess.run(
        [sys.executable, "app.py"],
        cwd=DEPLOY_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    written = json.loads((tmp_path / "QueuecheckIntake.template.json").read_text())
    assert synthesized.template.to_json() == written
