"""The security issue's findings, each through the products function: what it answers now."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import product_payload
from tests.unit.products_function import ProductsFunction, products_function

PROBLEM = "urn:catalog:problem:"


@pytest.fixture(scope="module")
def function() -> Iterator[ProductsFunction]:
    with products_function() as loaded:
        yield loaded


def body_of(**overrides: Any) -> str:
    return json.dumps(product_payload(**overrides), ensure_ascii=False)


def field_errors(answer: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["in"], e.get("pointer") or e["parameter"]) for e in answer["errors"]]


@pytest.mark.parametrize(
    "price", ["1e2", "1E2", "\uff15", "\u0661\u0662", "1_000", "+5", " 5", "5.000", "Infinity"]
)
def test_a_price_in_another_notation_is_422(function: ProductsFunction, price: str) -> None:
    # When a product is created with a price not in plain decimal digits
    status, answer = function.create(body_of(price=price))
    # Then it is refused: 422, pointing at the price
    assert (status, answer["type"]) == (422, PROBLEM + "validation-error")
    assert field_errors(answer) == [("body", "#/price")]


@pytest.mark.parametrize("price", ["1e2", "1.5E1", "-0.5e-1"])
def test_a_price_as_an_exponent_number_is_400(function: ProductsFunction, price: str) -> None:
    # When the price is a JSON number in exponent notation
    status, answer = function.create(body_of(price="PRICE").replace('"PRICE"', price))
    # Then the body is refused as JSON the API does not take
    assert (status, answer["type"]) == (400, PROBLEM + "malformed-json")
    assert "without an exponent" in answer["detail"]


@pytest.mark.parametrize("price", ['"19.99"', "19.99", "7", '"1000000"', "0.5"])
def test_plain_prices_are_still_201(function: ProductsFunction, price: str) -> None:
    # When the price is plain decimal digits, as a JSON string or number
    # Then the product is created
    status, answer = function.create(body_of(price="PRICE").replace('"PRICE"', price))
    assert status == 201, answer


@pytest.mark.parametrize("value", ["yes", "on", "1", "True", "FALSE", "", " true"])
def test_in_stock_is_true_or_false_only(function: ProductsFunction, value: str) -> None:
    # When the listing is asked for with in_stock other than true or false
    status, _, text = function.call("GET", "/v1/products", query={"in_stock": value})
    # Then it is refused: 422, naming the parameter
    answer = json.loads(text)
    assert (status, field_errors(answer)) == (422, [("query", "in_stock")])


@pytest.mark.parametrize("value", ["true", "false"])
def test_in_stock_takes_true_and_false(function: ProductsFunction, value: str) -> None:
    # When in_stock is true or false, then the listing answers
    assert function.call("GET", "/v1/products", query={"in_stock": value})[0] == 200


@pytest.mark.parametrize(
    ("parameter", "value"),
    [("min_price", "1e2"), ("max_price", "\uff15"), ("min_price", "1_0"), ("limit", "1_0")],
)
def test_query_numbers_take_digits_only(
    function: ProductsFunction, parameter: str, value: str
) -> None:
    # When a number of the query is written with an exponent, "_" or other digits than 0-9
    status, _, text = function.call("GET", "/v1/products", query={parameter: value})
    # Then it is refused: 422, naming the parameter
    assert (status, field_errors(json.loads(text))) == (422, [("query", parameter)])


@pytest.mark.parametrize(
    "body",
    [
        body_of(name="Mug \ufffd"),  # what a lenient decoder made of invalid bytes
        body_of(name="Mug").replace('"Mug"', '"Mug \\ufffd"'),
        body_of(name="Mug").replace('"Mug"', '"Mug \\ud800"'),
    ],
)
def test_a_body_that_was_not_utf_8_is_400(function: ProductsFunction, body: str) -> None:
    # When a body holds U+FFFD or a lone surrogate, raw or as an escape
    status, answer = function.create(body)
    # Then it is refused as malformed: the client's bytes were not UTF-8
    assert (status, answer["type"]) == (400, PROBLEM + "malformed-json")
    assert "not valid UTF-8" in answer["detail"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "gpj\u202eexe.jpg"),
        ("name", "Mu\u200bg"),
        ("name", "Mug\u2060"),
        ("sku", "SKU\u200d1"),
        ("tags", ["a\u200bb"]),
        ("description", "reads \u202ebackwards"),
    ],
)
def test_hidden_characters_are_422(function: ProductsFunction, field: str, value: Any) -> None:
    # When a text field holds a bidi control or an invisible character
    status, answer = function.create(body_of(**{field: value}))
    # Then it is refused: 422, pointing at the field
    assert status == 422
    assert field_errors(answer)[0][1].startswith(f"#/{field}")


def test_a_description_keeps_joined_emoji(function: ProductsFunction) -> None:
    # Given a description with an emoji sequence joined by ZWJ (multi-line text keeps them)
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    # When the product is created
    status, answer = function.create(body_of(description=f"For the {family}"))
    # Then it is, with its description as sent
    assert (status, answer["description"]) == (201, f"For the {family}")


def test_a_20_kb_path_is_not_echoed(function: ProductsFunction) -> None:
    # When a product is asked for by a 20 KB id
    long_id = "x" * 20_000
    status, _, text = function.call(
        "GET",
        f"/v1/products/{long_id}",
        resource="/v1/products/{id}",
        path_parameters={"id": long_id},
    )
    # Then it is not found, and the answer quotes 100 characters of the id at most
    answer = json.loads(text)
    assert status == 404
    assert "x" * 101 not in answer["detail"] and len(text) < 500


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("[" * 50_000 + "]" * 50_000, "nested too deeply"),
        ('{"stock": ' + "9" * 5_000 + "}", "number too long"),
        ('{"sku": "A", "sku": "B"}', "duplicate key 'sku'"),
    ],
)
def test_parser_refusals_are_in_our_words(
    function: ProductsFunction, body: str, reason: str
) -> None:
    # When a body is too deep, holds a huge number or repeats a key
    status, answer = function.create(body)
    # Then it is refused as malformed, in our words, not the parser's
    assert (status, answer["type"]) == (400, PROBLEM + "malformed-json")
    assert reason in answer["detail"]
    for internal in ("recursion", "4300", "Exceeds the limit"):
        assert internal not in answer["detail"]


def test_an_unknown_20_kb_key_is_quoted_short(function: ProductsFunction) -> None:
    # When a body carries an unknown key 20 KB long
    body = json.dumps({**product_payload(), "k" * 20_000: 1})
    status, answer = function.create(body)
    # Then it is refused, pointing at the key's first 100 characters only
    assert status == 422
    assert field_errors(answer) == [("body", "#/" + "k" * 100 + "\u2026")]


def test_thousands_of_errors_list_the_first_twenty(function: ProductsFunction) -> None:
    # When a body carries 5000 unknown keys
    body = json.dumps({**product_payload(), **{f"k{n}": n for n in range(5000)}})
    status, answer = function.create(body)
    # Then 20 are listed, and the detail says how many there were
    assert status == 422 and len(answer["errors"]) == 20
    assert "The first 20 of 5000 are listed." in answer["detail"]


@pytest.mark.parametrize(("parameter", "value"), [("q", "x" * 20_000), ("category", "X" * 20_000)])
def test_long_query_values_are_not_echoed(
    function: ProductsFunction, parameter: str, value: str
) -> None:
    # When a query value is 20 KB long
    status, _, text = function.call("GET", "/v1/products", query={parameter: value})
    # Then it is refused without being handed back
    assert status == 422 and len(text) < 1000
    assert value[:101] not in text


def test_a_batch_quotes_no_unknown_operation_and_checks_prices(function: ProductsFunction) -> None:
    # When a batch holds an operation of an unknown 20 KB kind and a create with price "1e2"
    operations = [{"op": "x" * 20_000}, {"op": "create", "product": product_payload(price="1e2")}]
    status, _, text = function.call(
        "POST", "/v1/products/batch", body=json.dumps({"operations": operations})
    )
    # Then both are refused on their own, in our words, quoting neither
    results = json.loads(text)["results"]
    assert status == 200 and [r["status"] for r in results] == [422, 422]
    assert results[0]["error"]["errors"][0]["detail"] == (
        "op must be one of 'create', 'update', 'delete'"
    )
    assert results[1]["error"]["errors"][0]["pointer"] == "#/operations/1/product/price"
    assert len(text) < 2000
