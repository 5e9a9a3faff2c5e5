"""Hypothesis strategies of the values a schema of the OpenAPI document allows.

hypothesis-jsonschema would be the library for this, but its last release (0.23.1) fails
on the pinned Hypothesis (`'many' object has no attribute 'more'`), so this covers the
subset of JSON Schema the document uses: $ref, enum, string (pattern, lengths), integer and
number (bounds, multipleOf), boolean, null, array (lengths, uniqueItems), object
(properties, required, minProperties, additionalProperties: false), anyOf.

Numbers are drawn as `Decimal` (the API's money is exact): `body()` writes them as JSON
numbers, as a client would.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from tests.contract import resolve


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    schema = resolve(schema)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    if "anyOf" in schema or "oneOf" in schema:
        return st.one_of([from_schema(s) for s in schema.get("anyOf", schema.get("oneOf"))])
    kind = schema.get("type")
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return _number(schema)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return st.lists(
            from_schema(schema.get("items", {})),
            min_size=schema.get("minItems", 0),
            max_size=schema.get("maxItems", 5),
            unique_by=(lambda v: json.dumps(v, sort_keys=True, default=str))
            if schema.get("uniqueItems")
            else None,
        )
    if kind == "object":
        return _object(schema)
    raise NotImplementedError(f"no strategy for {schema}")


# A pattern that only requires characters (the password policy): `^(?=[\s\S]*[...])...`.
_REQUIREMENT = re.compile(r"\(\?=\[\\s\\S\]\*(\[(?:\\.|[^\]])*\])\)")


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), schema.get("maxLength", 200)
    pattern = schema.get("pattern")
    if schema.get("format") == "email":
        # Hypothesis' addresses, as the pattern narrows them (its local part's bound is a
        # lookahead, which `from_regex` cannot draw from)
        rule = re.compile(pattern or ".*")
        return st.emails().filter(lambda v: rule.fullmatch(v) is not None and low <= len(v) <= high)
    if pattern is not None and pattern.startswith("^(?="):
        return _with_required_characters(pattern, low, min(high, low + 40))
    if pattern is not None:
        values = st.from_regex(re.compile(pattern), fullmatch=True)
    else:
        values = st.text(min_size=low, max_size=high)
    return values.filter(lambda v: low <= len(v) <= high)


def _with_required_characters(pattern: str, low: int, high: int) -> st.SearchStrategy[str]:
    """Text holding one character of each class the pattern's lookaheads require."""
    classes = _REQUIREMENT.findall(pattern)
    if "".join(f"(?=[\\s\\S]*{c})" for c in classes) != pattern[1:]:
        raise NotImplementedError(f"no strategy for the pattern {pattern}")
    required = st.tuples(*(st.from_regex(f"^{c}$", fullmatch=True) for c in classes))
    filler = st.text(min_size=max(low - len(classes), 0), max_size=high - len(classes))
    return st.tuples(required, filler, st.randoms()).map(_shuffled)


def _shuffled(parts: tuple[tuple[str, ...], str, Any]) -> str:
    required, filler, random = parts
    characters = [*required, *filler]
    random.shuffle(characters)
    return "".join(characters)


def _number(schema: dict[str, Any]) -> st.SearchStrategy[Decimal]:
    step = Decimal(str(schema.get("multipleOf", "0.01")))
    low = schema.get("minimum", schema.get("exclusiveMinimum", -1_000_000))
    high = schema.get("maximum", schema.get("exclusiveMaximum", 1_000_000))
    first = int(Decimal(str(low)) / step) + (1 if "exclusiveMinimum" in schema else 0)
    last = int(Decimal(str(high)) / step) - (1 if "exclusiveMaximum" in schema else 0)
    return st.integers(first, last).map(lambda n: n * step)


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    fewest = schema.get("minProperties", 0)
    return st.fixed_dictionaries(
        {name: from_schema(sub) for name, sub in properties.items() if name in required},
        optional={
            name: from_schema(sub) for name, sub in properties.items() if name not in required
        },
    ).filter(lambda value: len(value) >= fewest)


_TOKEN = "\u0000decimal:"


def body(value: Any) -> str:
    """`value` as a JSON request body, `Decimal` numbers as JSON numbers digit for digit."""
    text = json.dumps(_numbers(value), ensure_ascii=False)
    return re.sub(r'"\\u0000decimal:([-0-9.]+)"', r"\1", text)


def _numbers(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _TOKEN + str(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value
