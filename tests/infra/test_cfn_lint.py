"""cfn-lint finds nothing wrong with the synthesized template."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

# Accepted warnings, each with why. Anything else (every error included) fails the test.
ACCEPTED_WARNINGS = {
    # CDK's lambda.Function and sfn.StateMachine always add an explicit DependsOn on their
    # role next to the `Role: GetAtt` / `RoleArn: GetAtt` (they also need the DependsOn on
    # the role's policy, which is not redundant); the duplicate ordering is harmless.
    "W3005": {"AWS::Lambda::Function", "AWS::StepFunctions::StateMachine"},
}
REGIONS = ["us-east-1", "eu-west-1"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
# Synthesis (when this test asks first) and linting for two regions outgrow the default
# 120 s on a loaded 2-core machine since the stack holds the event plumbing.
@pytest.mark.timeout(600)
def test_template_passes_cfn_lint(synth_stage: Any, stage: str) -> None:
    from cfnlint.api import ManualArgs, lint

    synth = synth_stage(stage)
    matches = lint(synth.template_file.read_text(), config=ManualArgs(regions=REGIONS))
    unexpected = []
    for match in matches:
        accepted_on = ACCEPTED_WARNINGS.get(match.rule.id)
        resource = match.path[1] if len(match.path) > 1 and match.path[0] == "Resources" else None
        if accepted_on and resource and synth.resources[resource]["Type"] in accepted_on:
            continue
        unexpected.append(f"{match.rule.id} {'/'.join(map(str, match.path))}: {match.message}")
    assert unexpected == []
