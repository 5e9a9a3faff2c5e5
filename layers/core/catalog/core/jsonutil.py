"""Strict JSON for request bodies: exact decimals, no NaN/Infinity, no duplicate keys.

Also refused, each with our own wording (never the parser's internals, never the input
whole): numbers in exponent notation or longer than `MAX_NUMBER_LENGTH` characters, nesting
deeper than `MAX_DEPTH`, and text that was not valid UTF-8: U+FFFD (what a decoder puts in
place of invalid bytes) or a lone surrogate (a `\\udXXX` escape without its pair) in any key
or string.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from catalog.core.text import excerpt, misdecoded

MAX_NUMBER_LENGTH = 100  # characters: far beyond every number field's range
MAX_DEPTH = 32  # nested objects and arrays; the deepest body of the API has 5
# The standard library's parse errors: fixed phrases that never quote the input.
_PARSER_PHRASES = (
    "Expecting",
    "Unterminated string",
    "Invalid control character",
    "Invalid \\escape",
    "Invalid \\uXXXX escape",
    "Extra data",
    "Illegal trailing comma",
)


class _Refused(ValueError):
    """A body the parser read but the API does not take; the message is ours."""


def _reject_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a valid JSON number")


def _integer(literal: str) -> int:
    if len(literal) > MAX_NUMBER_LENGTH:
        raise _Refused(f"number too long (at most {MAX_NUMBER_LENGTH} characters)")
    return int(literal)


def _fraction(literal: str) -> Decimal:
    # Prices are exact decimals as written ("19.99"); an exponent ("1e2", "1.999E3") is a
    # notation no field of the API takes, and would hide how many places a price has.
    if "e" in literal or "E" in literal:
        raise _Refused("numbers must be written without an exponent")
    if len(literal) > MAX_NUMBER_LENGTH:
        raise _Refused(f"number too long (at most {MAX_NUMBER_LENGTH} characters)")
    return Decimal(literal)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(f"duplicate key {excerpt(key, 40)!r}")
        result[key] = value
    return result


def _check_tree(document: Any) -> None:
    """Every key and string is real text, and nesting stays within `MAX_DEPTH`."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if not value.isascii() and misdecoded(value):
                raise _Refused("it is not valid UTF-8 text (it holds U+FFFD or a lone surrogate)")
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise _Refused(f"nested too deeply (at most {MAX_DEPTH} levels)")
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)


def _our_wording(error: json.JSONDecodeError) -> str:
    phrase = error.msg if error.msg.startswith(_PARSER_PHRASES) else "unreadable JSON"
    return f"{phrase} at line {error.lineno}, column {error.colno}"


def loads_request(text: str) -> Any:
    """Parse a request body; numbers with a fraction become `Decimal`, never `float`.

    Every failure surfaces as `json.JSONDecodeError` with a message of ours, which the
    resolver reports as a 400.
    """
    try:
        document = json.loads(
            text,
            parse_float=_fraction,
            parse_int=_integer,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
        _check_tree(document)
    except json.JSONDecodeError as exc:
        raise json.JSONDecodeError(_our_wording(exc), text, exc.pos) from None
    except _Refused as exc:
        raise json.JSONDecodeError(str(exc), text, 0) from None
    except RecursionError:
        message = f"nested too deeply (at most {MAX_DEPTH} levels)"
        raise json.JSONDecodeError(message, text, 0) from None
    except ValueError:  # any other refusal of the parser: its words are not for clients
        raise json.JSONDecodeError("unreadable JSON", text, 0) from None
    return document


def dumps(value: Any) -> str:
    """Compact JSON for responses; `Decimal` is written as a string so no client rounds it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
