"""The document's constraints are the API's, through the products function: what the schema
allows is accepted, and each boundary the schema draws is the one the function draws."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from catalog.core import cursor
from catalog.products.listing import terms_of
from tests.contract import conformance_errors, document, operation, resolve, schema_errors
from tests.factories import product_payload
from tests.schema_strategies import body, from_schema
from tests.unit.products_function import ProductsFunction, products_function

CREATE = resolve(document["components"]["schemas"]["ProductCreate"])
PATCH = resolve(document["components"]["schemas"]["ProductPatch"])
PROPERTIES = CREATE["properties"]
RUNS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def function() -> Iterator[ProductsFunction]:
    # Pages past the first carry a signed cursor: a fixed key, no Secrets Manager.
    with pytest.MonkeyPatch.context() as patch, products_function() as loaded:
        patch.delenv("CURSOR_SECRET_ID", raising=False)
        patch.setenv("CURSOR_SIGNING_KEY", "unit-test-key")
        cursor._signing_key.cache_clear()
        yield loaded
    cursor._signing_key.cache_clear()


def _conforms(method: str, path: str, answer: tuple[int, dict[str, Any], str]) -> None:
    status, headers, text = answer
    errors = conformance_errors(method, path, status, headers.get("Content-Type"), text)
    assert not errors, errors


@RUNS
@given(product=from_schema(CREATE))
def test_every_body_the_schema_allows_is_created(
    function: ProductsFunction, product: dict[str, Any]
) -> None:
    # When a body drawn from the documented schema is sent
    answer = function.call("POST", "/v1/products", body=body(product))
    # Then the product is created (or its SKU was drawn twice: 409), never a 4xx of validation
    assert answer[0] in (201, 409), answer[2]
    # And the answer is one the document describes
    _conforms("POST", "/v1/products", answer)


@RUNS
@given(changes=from_schema(PATCH))
def test_every_change_the_schema_allows_is_applied(
    function: ProductsFunction, changes: dict[str, Any]
) -> None:
    # Given a product
    status, created = function.create(json.dumps(product_payload()))
    assert status == 201
    # When a change drawn from the documented schema is sent
    path = f"/v1/products/{created['id']}"
    answer = function.call(
        "PATCH",
        path,
        resource="/v1/products/{id}",
        body=body(changes),
        path_parameters={"id": created["id"]},
    )
    # Then it applies (or its SKU is another product's: 409)
    assert answer[0] in (200, 409), answer[2]
    _conforms("PATCH", "/v1/products/{id}", answer)


def _query_parameters() -> st.SearchStrategy[dict[str, Any]]:
    parameters = {
        p["name"]: from_schema(p["schema"])
        for p in operation("get", "/v1/products")["parameters"]
        if p["name"] != "cursor"  # a cursor is what a page hands out, never drawn
    }
    return st.fixed_dictionaries({}, optional=parameters)


@RUNS
@given(query=_query_parameters())
def test_every_query_the_schema_allows_is_answered(
    function: ProductsFunction, query: dict[str, Any]
) -> None:
    # When products are listed with parameters drawn from the documented ones
    multi = {
        name: [_query_text(v) for v in value] if isinstance(value, list) else [_query_text(value)]
        for name, value in query.items()
        if value is not None  # a query cannot send null: absent is how it says none
    }
    multi = {name: values for name, values in multi.items() if values}
    answer = function.call("GET", "/v1/products", multi_query=multi or None)
    # Then it is a page, or a documented refusal: a status only admins may list (403), or
    # one of the two rules the operation's description states joining parameters (422)
    low, high = query.get("min_price"), query.get("max_price")
    if query.get("status", "active") != "active":
        assert answer[0] == 403, answer[2]  # the caller is an editor; checked first
    elif low is not None and high is not None and Decimal(low) > Decimal(high):
        assert _combination(answer) == "max_price", answer[2]
    elif query.get("q") is not None and not terms_of(query["q"]):
        assert _combination(answer) == "q", answer[2]
    else:
        assert answer[0] == 200, answer[2]
    _conforms("GET", "/v1/products", answer)


def _combination(answer: tuple[int, dict[str, Any], str]) -> str | None:
    assert answer[0] == 422
    errors = json.loads(answer[2])["errors"]
    assert [e["type"] for e in errors] == ["combination"]
    return str(errors[0]["parameter"])


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- boundaries: each read from the schema, at the bound (accepted) and past it (refused) ---


def _send(function: ProductsFunction, **fields: Any) -> tuple[int, dict[str, Any]]:
    return function.create(body(product_payload(**fields)))


def _string_cases() -> list[tuple[str, Any, bool]]:
    fill = {"sku": "A", "name": "n", "description": "d", "category": "c"}
    cases = []
    for name, letter in fill.items():
        schema = PROPERTIES[name]
        high = schema["maxLength"]
        cases += [(name, letter * high, True), (name, letter * (high + 1), False)]
        if schema.get("minLength", 0) >= 1:
            cases.append((name, "", False))
    return cases


def _number_cases() -> list[tuple[str, Any, bool]]:
    stock = PROPERTIES["stock"]
    number, _ = PROPERTIES["price"]["anyOf"]
    assert number["exclusiveMinimum"] == 0
    step = number["multipleOf"]
    top = number["maximum"]
    return [
        ("stock", int(stock["minimum"]), True),
        ("stock", int(stock["maximum"]), True),
        ("stock", int(stock["minimum"]) - 1, False),
        ("stock", int(stock["maximum"]) + 1, False),
        ("price", f"{step:.2f}", True),
        ("price", f"{top:.2f}", True),
        ("price", "0.00", False),
        ("price", f"{top + step:.2f}", False),
        ("price", "1.999", False),
    ]


def _list_and_enum_cases() -> list[tuple[str, Any, bool]]:
    tags = PROPERTIES["tags"]
    currencies = PROPERTIES["currency"]["enum"]
    statuses = PROPERTIES["status"]["enum"]
    many = [f"tag-{n}" for n in range(tags["maxItems"])]
    return [
        ("tags", many, True),
        ("tags", [*many, "one-more"], False),
        ("tags", ["twice", "twice"], not tags["uniqueItems"]),
        ("currency", currencies[0], True),
        ("currency", currencies[-1], True),
        ("currency", next(c for c in ("ABC", "XYZ", "QQQ") if c not in currencies), False),
        *[("status", status, True) for status in statuses],
        ("status", "deleted", False),
    ]


CASES = _string_cases() + _number_cases() + _list_and_enum_cases()


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    CASES,
    ids=[f"{f}={str(v)[:12]}{'...' if len(str(v)) > 12 else ''}-{a}" for f, v, a in CASES],
)
def test_each_documented_bound_is_the_functions(
    function: ProductsFunction, field: str, value: Any, allowed: bool
) -> None:
    # Given a value at or past a bound of the documented schema
    if field == "sku" and value:
        value = value[:-8] + uuid.uuid4().hex[:8].upper()  # unique, and as long
    # And the document itself says so of the value
    documented = not schema_errors(PROPERTIES[field], value)
    assert documented == allowed
    # When a product is created with it
    status, answer = _send(function, **{field: value})
    # Then the function accepts exactly what the document allows
    if allowed:
        assert status in (201, 409), answer
    else:
        assert status == 422, answer
        assert [e.get("pointer") for e in answer["errors"]] == [f"#/{field}"]


def test_a_field_the_schema_does_not_name_is_refused(function: ProductsFunction) -> None:
    # Given the schema allows no other property
    assert CREATE["additionalProperties"] is False
    # When a body carries one
    status, answer = _send(function, colour="blue")
    # Then it is refused, pointing at it
    assert status == 422
    assert [e.get("pointer") for e in answer["errors"]] == ["#/colour"]
