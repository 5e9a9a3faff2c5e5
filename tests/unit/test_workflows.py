"""The deploy pipeline (.github/workflows/pipeline.yml) does what the README says, in order:
test, diff, deploy dev, smoke test, approval, deploy prod; AWS access by OIDC only."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "pipeline.yml"


@pytest.fixture(scope="module")
def pipeline() -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return document


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_jobs_run_in_order_test_diff_dev_prod(pipeline: dict[str, Any]) -> None:
    jobs = pipeline["jobs"]
    assert list(jobs) == ["test", "diff", "deploy-dev", "deploy-prod"]
    assert [jobs[name].get("needs") for name in jobs] == [None, "test", "diff", "deploy-dev"]
    # The tests are CI's own entry point, the one a clean checkout passes
    assert "bash .ci/run" in runs(jobs["test"])
    # and the lock's packages are checked for known vulnerabilities (needs the network, so
    # only here, not in make test)
    assert "make audit" in runs(jobs["test"])
    # Only pushes to main deploy; pull requests stop after the tests
    assert jobs["diff"]["if"] == "github.event_name == 'push'"
    assert pipeline[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads `on` as true


def test_dev_is_smoke_tested_and_prod_waits_for_its_environment_s_approval(
    pipeline: dict[str, Any],
) -> None:
    jobs = pipeline["jobs"]
    assert (jobs["deploy-dev"]["environment"], jobs["deploy-prod"]["environment"]) == (
        "dev",
        "prod",
    )
    assert "aws-cdk@2.1148.1 deploy -c stage=dev" in runs(jobs["deploy-dev"])
    assert "scripts/smoke.py" in runs(jobs["deploy-dev"])
    assert "aws-cdk@2.1148.1 deploy -c stage=prod" in runs(jobs["deploy-prod"])
    assert "diff -c stage=prod" in runs(jobs["diff"])


def test_aws_access_is_oidc_role_assumption_and_no_key_is_stored(
    pipeline: dict[str, Any],
) -> None:
    text = WORKFLOW.read_text()
    assert not re.search(r"AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY)", text)
    assert pipeline["permissions"] == {"contents": "read"}
    for name, job in pipeline["jobs"].items():
        assumes = [s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")]
        if name == "test":
            assert not assumes and "permissions" not in job
            continue
        (step,) = assumes
        assert step["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
        assert job["permissions"] == {"contents": "read", "id-token": "write"}


def test_every_action_is_pinned_to_a_release(pipeline: dict[str, Any]) -> None:
    for job in pipeline["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w-]+/[\w-]+@v\d+", step["uses"]), step["uses"]


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    """actionlint (the locked binary wheel in .venv) over `paths`."""
    binary = Path(sys.executable).with_name("actionlint")
    return subprocess.run(
        [str(binary), "-no-color", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_workflow_passes_actionlint() -> None:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
    assert WORKFLOW in workflows
    done = actionlint(*workflows)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_refuses_a_broken_workflow(tmp_path: Path) -> None:
    # Given the pipeline with a job needing one that does not exist, an undefined context
    # and an action on a runtime GitHub has removed
    broken = WORKFLOW.read_text().replace("needs: diff", "needs: difff", 1)
    broken = broken.replace("${{ vars.AWS_ROLE_ARN }}", "${{ varz.AWS_ROLE_ARN }}", 1)
    broken = broken.replace("actions/checkout@v5", "actions/checkout@v4", 1)
    path = tmp_path / "pipeline.yml"
    path.write_text(broken)
    # When actionlint reads it, then it fails naming each of the three
    done = actionlint(path)
    assert done.returncode == 1
    assert '"difff" which does not exist' in done.stdout
    assert 'undefined variable "varz"' in done.stdout
    assert 'runtime "node20" is deprecated' in done.stdout
