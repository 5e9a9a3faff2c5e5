"""The security issue's findings over real HTTP: local gateway -> products function -> moto."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.conftest import product_payload
from tests.e2e.conftest import Api

JSON = {"Content-Type": "application/json"}


def problem(response: requests.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:catalog:problem:{slug}"
    return body


@pytest.mark.parametrize("price", ["1e2", "\uff15", "1_000"])
def test_a_price_in_another_notation_is_refused(api: Api, price: str) -> None:
    # When a product is created with a price written with an exponent, a full-width digit
    # or a separator
    response = api.post("/v1/products", json=product_payload(price=price))
    # Then it is refused: 422, pointing at the price
    body = problem(response, 422, "validation-error")
    assert [e["pointer"] for e in body["errors"]] == ["#/price"]


def test_a_price_as_an_exponent_number_is_refused(api: Api) -> None:
    # When the price is the JSON number 1e2
    text = json.dumps(product_payload(price="PRICE")).replace('"PRICE"', "1e2")
    response = api.post("/v1/products", data=text.encode(), headers=JSON)
    # Then the body is refused as JSON the API does not take
    problem(response, 400, "malformed-json")


def test_in_stock_takes_only_true_and_false(anonymous: Api) -> None:
    # When the listing is asked for in_stock=yes
    response = anonymous.get("/v1/products", params={"in_stock": "yes"})
    # Then it is refused: 422, naming the parameter
    body = problem(response, 422, "validation-error")
    assert [e["parameter"] for e in body["errors"]] == ["in_stock"]
    # And in_stock=true lists
    assert anonymous.get("/v1/products", params={"in_stock": "true"}).status_code == 200


def test_a_body_that_is_not_utf_8_is_refused_not_stored(api: Api) -> None:
    # Given a create body whose name holds bytes that are not UTF-8
    payload = product_payload(name="Mug NAME")
    raw = json.dumps(payload).encode().replace(b"NAME", b"\xff\xfe")
    # When it is sent
    response = api.post("/v1/products", data=raw, headers=JSON)
    # Then it is refused as malformed (by the gateway or the function)
    problem(response, 400, "malformed-json")
    # And nothing was stored: its SKU is still free
    payload["name"] = "Mug"
    assert api.post("/v1/products", json=payload).status_code == 201


@pytest.mark.parametrize("name", ["invoice\u202efdp.exe", "Mu\u200bg", "Mug\ufeff"])
def test_names_with_hidden_characters_are_refused(api: Api, name: str) -> None:
    # When a product is created with a bidi override, a zero-width space or a BOM in its name
    response = api.post("/v1/products", json=product_payload(name=name))
    # Then it is refused: 422, pointing at the name
    body = problem(response, 422, "validation-error")
    assert [e["pointer"] for e in body["errors"]] == ["#/name"]


def test_a_long_path_is_not_echoed(anonymous: Api) -> None:
    # When a product is asked for by an id 8 KB long (within the URL quota of 10,240
    # characters: beyond it the gateway answers 414 before any function, as API Gateway)
    response = anonymous.get("/v1/products/" + "x" * 8_000)
    # Then it is not found, and the answer quotes at most 100 characters of it
    body = problem(response, 404, "not-found")
    assert "x" * 101 not in body["detail"]
    assert len(response.content) < 1000


def test_parser_refusals_are_in_our_words(api: Api) -> None:
    # When a body is nested far too deeply
    response = api.post("/v1/products", data=b"[" * 5000 + b"]" * 5000, headers=JSON)
    # Then it is refused as malformed, saying so without the parser's words
    body = problem(response, 400, "malformed-json")
    assert "nested too deeply" in body["detail"]
    assert "recursion" not in body["detail"]
