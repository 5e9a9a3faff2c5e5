"""Test doubles for the deploy runner: the migration engine, a Lambda context, and the
migrations function's handler loaded as Lambda loads it."""

from __future__ import annotations

import importlib.util
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 900


def engine_module() -> types.ModuleType:
    """`catalog.migrations`, whose `upgrade` each test replaces."""
    import catalog.migrations as engine

    return engine


class Upgrades:
    """Records each `upgrade` call; answers with the next of `results` (the last one
    again once they are used up), or raises `error`."""

    def __init__(self, *results: Any, error: Exception | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.results, self.error = list(results), error

    def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        return self.results.pop(0) if len(self.results) > 1 else self.results[0]


@dataclass
class Context:
    remaining_ms: int = TIMEOUT_S * 1000
    function_name: str = "catalog-dev-migrations"
    aws_request_id: str = "request-1"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:migrations"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def load_handler() -> types.ModuleType:
    """functions/migrations/handler.py, loaded on its own (as LocalFunction and Lambda do)."""
    spec = importlib.util.spec_from_file_location(
        "_migrations_handler_test", ROOT / "functions" / "migrations" / "handler.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
