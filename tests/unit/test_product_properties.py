"""Property: the products function accepts a create body exactly when the field rules say so.

Hypothesis builds bodies field by field from valid values and near misses (prices in other
notations, hidden characters, lax booleans, other scripts' digits, lengths just over...),
sends each through the function in-process, and compares the answer with `expected()`, a
restatement of the rules that shares no code with the schemas: 201 when it holds, 400 for
what the JSON layer refuses, 422 for the rest; every refusal is problem+json.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

# Hypothesis keeps its example database and Unicode tables out of the repository.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY",
    str(Path(__file__).resolve().parents[2] / ".pytest_cache" / "hypothesis"),
)

from hypothesis import HealthCheck, event, given, settings, strategies as st

from catalog.products.service import ProductService
from tests.fakes import InMemoryProductStore
from tests.unit.products_function import ProductsFunction, products_function

# Bounded (about 10 s for the three on a busy machine); no database, so nothing is written.
EXAMPLES = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

# --- the rules, restated ------------------------------------------------------------------

BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
INVISIBLE_LETTERS = "\u115f\u1160\u3164\uffa0\u2028\u2029"
CURRENCIES = {"EUR": True, "USD": True, "JPY": True, "eur": False, "XXX": False, "EURO": False}
STATUSES = {"draft", "active", "archived"}
REQUIRED = {"sku", "name", "price", "currency", "category"}
KNOWN = REQUIRED | {"description", "tags", "stock", "status"}


@dataclass(frozen=True)
class Number:
    """A JSON number exactly as written in the body (json.dumps could not write `1e2`)."""

    literal: str


def misdecoded(text: str) -> bool:
    return any(c == "\ufffd" or 0xD800 <= ord(c) <= 0xDFFF for c in text)


def control(c: str) -> bool:
    return ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F


def one_line(value: Any, longest: int) -> bool:
    if not isinstance(value, str) or len(value) > 5000:
        return False
    text = unicodedata.normalize("NFC", value).strip()
    hidden = any(
        control(c) or c in BIDI or c in INVISIBLE_LETTERS or unicodedata.category(c) == "Cf"
        for c in text
    )
    return 1 <= len(text) <= longest and not hidden


def multi_line(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 5000:
        return False
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").strip()
    hidden = any((control(c) and c not in "\n\t") or c in BIDI for c in text)
    return len(text) <= 5000 and not hidden


def price(value: Any) -> bool:
    if isinstance(value, Number):
        places = value.literal.partition(".")[2]
        amount = Decimal(value.literal)
    elif isinstance(value, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]{1,2})?", value):
        amount, places = Decimal(value), ""
    else:
        return False
    return len(places) <= 2 and 0 < amount <= 1_000_000


def stock(value: Any) -> bool:
    """A whole number as JSON has it (5, or 5.0 with a zero fraction), 0 to 1,000,000,000."""
    if isinstance(value, Number):
        amount = Decimal(value.literal)
        if amount != amount.to_integral_value():
            return False
    elif type(value) is int:
        amount = Decimal(value)
    else:
        return False
    return 0 <= amount <= 1_000_000_000


def slug(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) <= 64
        and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", value) is not None
    )


def sku(value: Any) -> bool:
    return isinstance(value, str) and bool(
        re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", value.strip())
    )


def tags(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) <= 20
        and all(slug(t) for t in value)
        and len(set(value)) == len(value)
    )


RULES = {
    "sku": sku,
    "name": lambda v: one_line(v, 200),
    "description": multi_line,
    "price": price,
    "currency": lambda v: CURRENCIES.get(v, False) if isinstance(v, str) else False,
    "category": slug,
    "tags": tags,
    "stock": stock,
    "status": lambda v: v in STATUSES,
}


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def expected(body: dict[str, Any]) -> int:
    """The status the rules call for: 400 (not JSON the API takes), 422 or 201."""
    if any(misdecoded(s) for key, value in body.items() for s in [key, *strings_in(value)]):
        return 400
    number = body.get("price")
    if isinstance(number, Number) and ("e" in number.literal.lower() or len(number.literal) > 100):
        return 400
    if not body.keys() >= REQUIRED or not body.keys() <= KNOWN:
        return 422
    return 201 if all(RULES[field](value) for field, value in body.items()) else 422


# --- the bodies -----------------------------------------------------------------------------

HIDDEN = st.one_of(
    st.sampled_from(BIDI + INVISIBLE_LETTERS + "\x00\x07\t\n\r\x1b\x7f\x85\ufffd\ud800\udfff"),
    st.characters(categories=["Cf"]),
)
ORDINARY = st.text(st.characters(categories=["L", "M", "N", "P", "S", "Zs"]), max_size=12)
WORDS = st.text(st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=40)


def with_hidden(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(text, HIDDEN, text).map("".join)


def texts(longest: int) -> st.SearchStrategy[str]:
    return st.one_of(
        ORDINARY,
        with_hidden(ORDINARY),
        st.text("ab ", min_size=longest - 2, max_size=longest + 3),  # around the limit
        ORDINARY.map(lambda t: f"  {t}\u3000"),  # padding that trimming removes
        st.tuples(ORDINARY, st.sampled_from("\ufffd\ud800\udc00"), ORDINARY).map("".join),
    )


SLUG = st.from_regex(r"\A[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}\Z")
SLUGS = st.one_of(
    SLUG,
    st.sampled_from(["Kitchen", "kit chen", "-x", "x-", "x" * 65, "\uff4bitchen", "a\u200bb", ""]),
)
PLAIN_PRICE = r"\A[1-9][0-9]{0,5}(\.[0-9]{1,2})?\Z"
PRICE_STRINGS = st.one_of(
    st.from_regex(r"\A-?[0-9]{1,8}(\.[0-9]{1,3})?\Z"),  # some with 3 places, some too high
    st.sampled_from(["1e2", "1E2", "\uff15", "\u0663", "1_000", "+5", " 5", "5 ", "5.", ".5"]),
    st.sampled_from(["0x10", "NaN", "Infinity", "", "5\n", "1000000.01", "-0"]),
)
PRICES = st.one_of(
    PRICE_STRINGS,
    st.from_regex(r"\A-?(0|[1-9][0-9]{0,7})(\.[0-9]{1,3})?\Z").map(Number),
    st.from_regex(r"\A[1-9](\.[0-9]{1,2})?[eE][+-]?[0-9]\Z").map(Number),
    st.sampled_from([True, False, None, [], {}]),
)
# Values the rules mostly accept: a body starts from these...
VALID: dict[str, st.SearchStrategy[Any]] = {
    "sku": st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z"),
    "name": WORDS,
    "description": st.text(
        st.characters(categories=["L", "N", "P", "S", "Zs"], include_characters="\n\t")
    ),
    "price": st.one_of(st.from_regex(PLAIN_PRICE), st.from_regex(PLAIN_PRICE).map(Number)),
    "currency": st.sampled_from(["EUR", "USD", "JPY"]),
    "category": SLUG,
    "tags": st.lists(SLUG, max_size=5, unique=True),
    "stock": st.integers(0, 1_000_000_000),
    "status": st.sampled_from(sorted(STATUSES)),
}
# ...and a few of its fields are then drawn from valid values and near misses alike.
ANY: dict[str, st.SearchStrategy[Any]] = {
    "sku": st.one_of(
        VALID["sku"],
        st.sampled_from(["has space", "-lead", "x" * 65, "\uff21-1", " A-1 ", "A\u200d1", 7]),
    ),
    "name": texts(200),
    "description": texts(5000 // 40).map(lambda t: t * 40),  # up to and past 5000
    "price": PRICES,
    "currency": st.sampled_from(sorted(CURRENCIES)),
    "category": SLUGS,
    "tags": st.lists(SLUGS, max_size=22),
    "stock": st.one_of(
        st.integers(-5, 1_000_000_005),
        st.sampled_from([True, "5", Number("5.0"), Number("5.5"), Number("-1.0"), None]),
    ),
    "status": st.sampled_from([*sorted(STATUSES), "published", "Active", True]),
}


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    body = {
        field: draw(strategy)
        for field, strategy in VALID.items()
        if field in REQUIRED or draw(st.booleans())
    }
    near_misses = draw(st.sampled_from([0, 1, 1, 2]))  # fields drawn from ANY (a quarter: none)
    for field in draw(st.permutations(sorted(ANY)))[:near_misses]:
        if field in REQUIRED and draw(st.integers(0, 15)) == 0:
            del body[field]  # a required field left out
        else:
            body[field] = draw(ANY[field])
    if draw(st.integers(0, 30)) == 0:
        body[draw(st.sampled_from(["colour", "Price", "\u202ename"]))] = "x"
    return body


def as_json(body: dict[str, Any], ascii_only: bool) -> str:
    """The body as a client writes it, numbers as their literals."""
    members = []
    for key, value in body.items():
        text = (
            value.literal
            if isinstance(value, Number)
            else json.dumps(value, ensure_ascii=ascii_only)
        )
        members.append(f"{json.dumps(key, ensure_ascii=ascii_only)}: {text}")
    return "{" + ", ".join(members) + "}"


# --- the properties -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def function() -> Iterator[ProductsFunction]:
    with products_function() as loaded:
        yield loaded


@EXAMPLES
@given(body=bodies(), ascii_only=st.booleans())
def test_a_create_succeeds_exactly_when_the_rules_hold(
    function: ProductsFunction, body: dict[str, Any], ascii_only: bool
) -> None:
    # Given an empty catalog (so no SKU is taken)
    function.module.service = ProductService(InMemoryProductStore())  # type: ignore[attr-defined]
    # When the body is sent to create a product
    status, answer = function.create(as_json(body, ascii_only))
    # Then the function answers what the rules call for
    event(f"answered {status}")  # --hypothesis-show-statistics: the mix of outcomes
    assert status == expected(body), answer
    if status == 201:
        # And the product holds the price to two places and the name as cleaned
        sent = body["price"]
        amount = Decimal(sent.literal if isinstance(sent, Number) else sent)
        assert answer["price"] == f"{amount:.2f}"
        assert answer["name"] == unicodedata.normalize("NFC", body["name"]).strip()
    else:
        assert answer["status"] == status and answer["type"].startswith("urn:catalog:problem:")


@EXAMPLES
@given(
    value=st.one_of(
        st.sampled_from(["true", "false", "True", "FALSE", "yes", "on", "1", "0", "", "t"]),
        st.text(max_size=6),
    )
)
def test_in_stock_takes_exactly_true_and_false(function: ProductsFunction, value: str) -> None:
    # When the listing is asked for with any in_stock value
    status, _, _ = function.call("GET", "/v1/products", query={"in_stock": value})
    # Then it answers only to the two JSON spellings
    assert status == (200 if value in ("true", "false") else 422)


@EXAMPLES
@given(value=PRICE_STRINGS)
def test_min_price_takes_plain_decimals_only(function: ProductsFunction, value: str) -> None:
    # When the listing is asked for with any min_price
    status, _, _ = function.call("GET", "/v1/products", query={"min_price": value})
    # Then it answers to plain decimals from 0 to 1,000,000 with at most 2 places
    plain = re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", value)
    assert status == (200 if plain and Decimal(value) <= 1_000_000 else 422)
