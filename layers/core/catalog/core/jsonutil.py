"""Strict JSON for request bodies: exact decimals, no NaN/Infinity, no duplicate keys."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def loads_request(text: str) -> Any:
    """Parse a request body; numbers with a fraction become `Decimal`, never `float`.

    Every failure surfaces as `json.JSONDecodeError`, which the resolver reports as a 400.
    """
    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:
        raise json.JSONDecodeError(str(exc), text, 0) from None


def dumps(value: Any) -> str:
    """Compact JSON for responses; `Decimal` is written as a string so no client rounds it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
