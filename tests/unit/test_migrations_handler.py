"""The deploy runner's entry point: what it asks of the migration engine, what it answers.

The engine (`catalog.migrations`) is replaced by a recorder of `upgrade` calls; its
exceptions are the engine's own where the engine is installed (the contract's otherwise).
"""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Iterator
from typing import Any

import pytest

from tests.deploy_runner import Context, Upgrades, engine_module, load_handler


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = engine_module()
    if "catalog.migrations" not in sys.modules:
        monkeypatch.setitem(sys.modules, "catalog.migrations", module)
    return module


@pytest.fixture
def handler(engine: types.ModuleType) -> Iterator[types.ModuleType]:
    yield load_handler()


def result(engine: types.ModuleType, **values: Any) -> Any:
    fields = {"done": True, "applied": (), "pending": (), "scanned": 0, "changed": 0}
    return engine.RunResult(**{**fields, **values})


def test_it_upgrades_as_the_execution_with_a_deadline_short_of_the_timeout(
    handler: types.ModuleType, engine: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an engine with two migrations to apply, and 600 s left in the invocation
    upgrades = Upgrades(result(engine, applied=("0001", "0002"), scanned=1200, changed=1100))
    monkeypatch.setattr(engine, "upgrade", upgrades)
    before = time.time()
    # When the state machine invokes the function for its execution
    answer = handler.lambda_handler({"runner": "deploy:abc"}, Context(remaining_ms=600_000))
    # Then it upgraded everything once, as that runner, stopping MARGIN_S before the end
    (call,) = upgrades.calls
    assert call["runner"] == "deploy:abc"
    assert set(call) == {"runner", "deadline"}  # `to` and dry_run left at their defaults
    assert (
        before + 600 - handler.MARGIN_S <= call["deadline"] <= time.time() + 600 - handler.MARGIN_S
    )
    # And it answers what it did, in JSON's types
    assert answer == {
        "done": True,
        "applied": ["0001", "0002"],
        "pending": [],
        "scanned": 1200,
        "changed": 1100,
    }


def test_a_run_stopped_by_its_deadline_answers_not_done(
    handler: types.ModuleType, engine: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an engine that reaches the deadline with 0002 still pending
    upgrades = Upgrades(result(engine, done=False, applied=("0001",), pending=("0002",)))
    monkeypatch.setattr(engine, "upgrade", upgrades)
    # When the function is invoked
    answer = handler.lambda_handler({"runner": "deploy:abc"}, Context())
    # Then it answers not done (the state machine invokes it again), and no failure
    assert answer["done"] is False and answer["pending"] == ["0002"]
    assert "failed" not in answer


def test_invoked_by_hand_the_runner_is_the_invocation(
    handler: types.ModuleType, engine: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrades = Upgrades(result(engine))
    monkeypatch.setattr(engine, "upgrade", upgrades)
    handler.lambda_handler({}, Context(aws_request_id="r-9"))
    assert upgrades.calls[0]["runner"] == "lambda:catalog-dev-migrations:r-9"


def failures(engine: types.ModuleType) -> list[Exception]:
    """The engine's errors as it raises them (the failing item's error on two lines)."""
    return [
        engine.MigrationFailed("0002_x", {"pk": "PRODUCT#1"}, "ValueError:\n  bad price"),
        engine.LeaseHeld("cli:ann", "2026-12-01T12:00:00Z"),
        engine.MigrationError("migration 0003 is missing (gap in numbering): add 0003"),
    ]


@pytest.mark.parametrize("which", [0, 1, 2], ids=["failed", "lease", "refused"])
def test_an_engine_error_becomes_a_failure_with_its_one_line_message(
    handler: types.ModuleType, engine: types.ModuleType, monkeypatch: pytest.MonkeyPatch, which: int
) -> None:
    # Given an engine that refuses or fails
    error = failures(engine)[which]
    monkeypatch.setattr(engine, "upgrade", Upgrades(error=error))
    # When the function is invoked
    answer = handler.lambda_handler({"runner": "deploy:abc"}, Context())
    # Then it answers the failure (the state machine's Fail state reads it): the error's
    # class and its message on one line
    assert answer["done"] is False
    assert answer["failed"]["error"] == type(error).__name__
    assert answer["failed"]["cause"] == " ".join(str(error).split())
    assert "\n" not in answer["failed"]["cause"]


def test_an_unexpected_error_is_raised_for_the_state_machine_to_fail_on(
    handler: types.ModuleType, engine: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not the engine's refusal: a bug or an AWS error. Lambda reports it as the function's
    # error, the task fails with it (not retried: only Lambda's own errors are).
    monkeypatch.setattr(engine, "upgrade", Upgrades(error=RuntimeError("DynamoDB is down")))
    with pytest.raises(RuntimeError, match="DynamoDB is down"):
        handler.lambda_handler({"runner": "deploy:abc"}, Context())


def test_a_long_message_is_cut_to_what_cloudformation_shows(handler: types.ModuleType) -> None:
    text = handler.one_line("word " * 400)
    assert len(text) == handler.MESSAGE_LIMIT and text.endswith("…")
    assert handler.one_line("a\n  b\tc") == "a b c"


def test_the_margin_leaves_most_of_the_topology_timeout_to_the_run(
    handler: types.ModuleType,
) -> None:
    from infra import topology

    timeout = topology.FUNCTIONS[topology.DEPLOY_RUNNER].timeout_s
    assert 0 < handler.MARGIN_S <= timeout / 10
