"""cdk-nag (AwsSolutions) passes, and every finding it would raise is acknowledged for a reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Validations

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def findings(app: Any) -> set[tuple[str, str]]:
    """(construct path of the CloudFormation resource, rule id) for each AwsSolutions finding."""
    from cdk_nag import AwsSolutionsChecks

    report = AwsSolutionsChecks().validate_scope(app)
    return {
        (resource.construct_path or str(resource.resource_logical_id), violation.rule_name)
        for violation in report.violations
        for resource in violation.violating_resources
    }


def covers(acknowledged_path: str, resource_path: str) -> bool:
    return resource_path == acknowledged_path or resource_path.startswith(acknowledged_path + "/")


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_synth_with_aws_solutions_checks_reports_nothing_open(synth_stage: Any, stage: str) -> None:
    # Given the app as infra/app.py builds it (plugin included), When it synthesized (the
    # fixture fails on any unacknowledged finding), Then the validation report is clean.
    synth = synth_stage(stage)
    assert synth.nag_error is None, synth.nag_error
    report_file = Path(synth.template_file.parent) / "validation-report.json"
    if report_file.exists():
        reports = json.loads(report_file.read_text())["pluginReports"]
        assert [r for r in reports if r.get("violations")] == []
    assert findings(synth.app) == set()


def test_without_its_acknowledgments_the_stack_fails_synth(unacknowledged: Any) -> None:
    # Proves the plugin really runs at synth time, not only in this test's direct call.
    app, _ = unacknowledged
    with pytest.raises(Exception, match=r"ValidationFailed(.|\n)*AwsSolutions"):
        app.synth()


def test_every_acknowledgment_has_a_specific_reason(unacknowledged: Any) -> None:
    _, acknowledged = unacknowledged
    assert acknowledged, "expected acknowledgments (public routes, X-Ray, ...)"
    for ack in acknowledged:
        assert ack.rule.startswith("AwsSolutions-"), ack
        assert len(ack.reason.split()) >= 8, f"reason too thin for {ack.rule} on {ack.path}"


def test_acknowledgments_match_findings_exactly(unacknowledged: Any) -> None:
    # Given the findings of the stack built without acknowledgments
    app, acknowledged = unacknowledged
    found = findings(app)
    # Then each finding is acknowledged on its resource or an ancestor...
    open_findings = {
        (path, rule)
        for path, rule in found
        if not any(a.rule == rule and covers(a.path, path) for a in acknowledged)
    }
    assert open_findings == set()
    # ...and no acknowledgment is stale (one left behind after a fix would hide a regression).
    stale = [
        a for a in acknowledged if not any(a.rule == r and covers(a.path, p) for p, r in found)
    ]
    assert stale == []


def test_acknowledgments_in_the_real_stack_all_carry_reasons(dev: Any) -> None:
    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    reasons = [
        (construct.node.path, rule, reason)
        for construct in dev.stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == key
        for rule, reason in entry.data.items()
    ]
    assert reasons
    assert [r for r in reasons if not str(r[2]).strip()] == []
