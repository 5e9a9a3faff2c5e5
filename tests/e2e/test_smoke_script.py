"""The deploy pipeline's smoke test (scripts/smoke.py) passes against the local system, and
fails when a step does."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from infra.local.demo_users import DEMO_USERS, demo_password

ROOT = Path(__file__).resolve().parents[2]


def smoke() -> ModuleType:
    spec = importlib.util.spec_from_file_location("smoke", ROOT / "scripts" / "smoke.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_smoke_test_passes_and_removes_its_account(
    local_system: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the local system, its demo editor as the smoke editor, and its user pool
    monkeypatch.setenv("SMOKE_EDITOR_PASSWORD", demo_password())
    pool = local_system.user_pool.pool_id
    # When the smoke test runs against it
    status = smoke().main(
        ["--api", local_system.url, "--editor-email", DEMO_USERS["editor"], "--user-pool-id", pool]
    )
    # Then every step passed and the throwaway account is gone again
    out = capsys.readouterr().out
    assert status == 0, out
    assert "smoke test passed" in out
    steps = [line.split(" (")[0] for line in out.splitlines() if line.startswith("ok   ")]
    assert [step.split()[1] for step in steps[:10]] == [
        "GET", "POST", "POST", "GET", "POST", "GET", "POST", "GET", "DELETE", "GET",
    ]  # fmt: skip
    assert steps[-2].endswith("after the delete")
    email = next(line.split()[-1] for line in out.splitlines() if "deleted the throwaway" in line)
    cognito = boto3.client("cognito-idp", endpoint_url=local_system.aws_url)
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=pool, Username=email)


def test_the_smoke_test_fails_when_a_step_fails(
    local_system: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a wrong password for the smoke editor
    monkeypatch.setenv("SMOKE_EDITOR_PASSWORD", "Not-the-password-1")
    # When the smoke test runs
    status = smoke().main(["--api", local_system.url, "--editor-email", DEMO_USERS["editor"]])
    # Then it stops at the editor's sign-in and exits non-zero
    assert status == 1
    assert "FAIL POST /v1/auth/login (smoke editor): 401" in capsys.readouterr().err


def test_read_only_smoke_needs_no_account(
    local_system: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert smoke().main(["--api", local_system.url, "--read-only"]) == 0
    assert capsys.readouterr().out.count("ok   ") == 2
