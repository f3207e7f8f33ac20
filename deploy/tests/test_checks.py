"""Static checks of the synthesized stack: cfn-lint, and cdk-nag's AWS Solutions rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

LINT_REGIONS = ["us-east-1", "eu-west-1"]
# cfn-lint findings accepted on purpose: rule -> (the stack attribute whose resource may
# carry it, why). Only that resource is excused, and the finding must still occur: an entry
# that no longer matches anything is stale and fails the test.
ACCEPTED_LINT = {
    "W3005": (
        "function",
        "CDK always adds DependsOn from a Lambda function to its role, so that policies "
        "attached to the role exist before the function; here the policy is inline and the "
        "GetAtt of the role's ARN already orders them. Redundant, harmless, not ours to remove.",
    ),
}


def test_template_passes_cfn_lint(synthesized):
    """cfn-lint finds no error and no warning, apart from the accepted one listed above."""
    from cfnlint.api import ManualArgs, lint

    template = json.dumps(synthesized.template.to_json())
    matches = lint(template, config=ManualArgs(regions=LINT_REGIONS))
    accepted_ids = {
        rule: synthesized.logical_id(getattr(synthesized.stack, attribute))
        for rule, (attribute, _) in ACCEPTED_LINT.items()
    }

    def accepted(match):
        return match.rule.id in accepted_ids and match.path[:2] == [
            "Resources",
            accepted_ids[match.rule.id],
        ]

    unexpected = [
        f"{m.rule.id} {m.rule.severity} {'/'.join(map(str, m.path))}: {m.message}"
        for m in matches
        if m.rule.severity in {"error", "warning"} and not accepted(m)
    ]
    assert unexpected == []
    assert {m.rule.id for m in matches if accepted(m)} == set(ACCEPTED_LINT)


def test_stack_has_no_cdk_warnings_or_errors(synthesized):
    """The constructs attach no warning or error to the stack (CDK's notes on ignored or
    conflicting settings). Deprecated APIs fail earlier: conftest sets JSII_DEPRECATED=fail.
    """
    from aws_cdk.assertions import Annotations, Match

    annotations = Annotations.from_stack(synthesized.stack)
    found = annotations.find_warning("*", Match.any_value()) + annotations.find_error(
        "*", Match.any_value()
    )
    assert [f"{message.id}: {message.entry.data}" for message in found] == []


def test_synthesis_reports_no_findings(synthesized):
    """cdk-nag (AWS Solutions) and CDK's own template validation report nothing open.

    Both run inside ``app.synth()``, which would have raised on any finding; the report
    they write into the cloud assembly is read here as well, in case that ever changes.
    """
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    assert report["pluginReports"] == []


@pytest.fixture(scope="module")
def unacknowledged(app_context, tmp_path_factory):
    """The app synthesized with every acknowledgment withheld: what cdk-nag then reports.

    Returns the acknowledgments the stack asked for, as (construct path, rule, reason), and
    the violations of the failed synthesis, as (rule, construct path).
    """
    import intake_stack

    requested = []

    def record(scope, rule, reason):
        requested.append((scope.node.path, rule, reason))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(intake_stack, "acknowledge", record)
        app, _ = intake_stack.build_app(app_context, str(tmp_path_factory.mktemp("cdk.out")))
        with pytest.raises(RuntimeError, match="ValidationFailed"):
            app.synth()
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    violations = {
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    }
    return requested, violations


def test_every_finding_is_acknowledged_on_the_construct_it_concerns(unacknowledged):
    """Each cdk-nag finding is covered by an acknowledgment of that rule on that construct."""
    requested, violations = unacknowledged
    assert violations, "without acknowledgments cdk-nag should report the accepted findings"
    uncovered = [
        (rule, path)
        for rule, path in violations
        if not any(
            rule == acked_rule and path.startswith(scope + "/")
            for scope, acked_rule, _ in requested
        )
    ]
    assert uncovered == []


def test_every_acknowledgment_answers_a_real_finding_with_a_reason(unacknowledged):
    """No acknowledgment is left over, and each states its own reason at some length."""
    requested, violations = unacknowledged
    unused = [
        (scope, acked_rule)
        for scope, acked_rule, _ in requested
        if not any(rule == acked_rule and path.startswith(scope + "/") for rule, path in violations)
    ]
    assert unused == []
    reasons = {rule: reason for _, rule, reason in requested}
    assert all(len(reason) >= 60 for reason in reasons.values())
    assert len(set(reasons.values())) == len(reasons)
