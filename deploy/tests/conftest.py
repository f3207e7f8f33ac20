"""Fixtures shared by the deploy tests: one synthesis of the app for the whole session.

Starting jsii and synthesizing take seconds, so the app is built once, with the context that
``cdk.json`` gives the CDK CLI, and every test reads the same template and cloud assembly.
``app.synth()`` itself runs cdk-nag and CDK's built-in template validation and raises on any
finding that is not acknowledged, so a passing fixture already means a clean synthesis.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

DEPLOY_DIR = Path(__file__).resolve().parents[1]
# pytest runs with --import-mode=importlib, which puts no test folder on sys.path: the
# app's modules live beside app.py, so that folder goes on the path here, as `python app.py`
# has it.
if str(DEPLOY_DIR) not in sys.path:
    sys.path.insert(0, str(DEPLOY_DIR))
# A deprecated CDK API used by the app raises instead of printing a warning nobody reads.
# Read when the jsii runtime starts, so it is set before anything imports aws_cdk.
os.environ.setdefault("JSII_DEPRECATED", "fail")


@attrs.frozen
class Synthesized:
    """One synthesized app: the stack object, its template and the cloud assembly folder."""

    stack: Any
    template: Any
    outdir: Path

    @property
    def resources(self) -> dict[str, Any]:
        return self.template.to_json()["Resources"]

    def logical_id(self, construct: Any) -> str:
        """The template's name for an L2 construct (its CloudFormation resource)."""
        return str(self.stack.get_logical_id(construct.node.default_child))

    def of_type(self, resource_type: str) -> dict[str, Any]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}


@pytest.fixture(scope="session")
def synthesized(
    app_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Synthesized:
    """The app synthesized as ``cdk synth`` would, into a folder pytest cleans up."""
    from aws_cdk.assertions import Template
    from intake_stack import build_app

    app, stack = build_app(app_context, str(tmp_path_factory.mktemp("cdk.out")))
    assembly = app.synth()
    return Synthesized(stack, Template.from_stack(stack), Path(assembly.directory))


@pytest.fixture(scope="session")
def app_context() -> dict[str, Any]:
    """The context the CDK CLI passes to the app: tests synthesize what deploy deploys."""
    return dict(json.loads((DEPLOY_DIR / "cdk.json").read_text()).get("context", {}))
