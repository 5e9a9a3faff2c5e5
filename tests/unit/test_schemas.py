"""Validation rules of product bodies: what is accepted, what is refused, how it is written."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from catalog.products.schemas import ProductCreate, ProductPatch
from tests.conftest import product_payload


def errors_of(**overrides: Any) -> list[str]:
    try:
        ProductCreate.model_validate(product_payload(**overrides))
    except ValidationError as exc:
        return [".".join(str(p) for p in e["loc"]) for e in exc.errors()]
    return []


def test_a_complete_body_is_accepted_with_exact_price() -> None:
    product = ProductCreate.model_validate(product_payload(price=Decimal("19.99")))
    assert product.price == Decimal("19.99")
    assert isinstance(product.price, Decimal)


def test_defaults_fill_optional_fields() -> None:
    body = {"sku": "A-1", "name": "Mug", "price": "3", "currency": "EUR", "category": "kitchen"}
    product = ProductCreate.model_validate(body)
    assert (product.description, product.tags, product.stock, product.status) == (
        "",
        [],
        0,
        "draft",
    )


@pytest.mark.parametrize(
    "price", ["19.99", Decimal("0.01"), 1000000, "1000000.00", Decimal("1E+2"), 7]
)
def test_valid_prices(price: Any) -> None:
    assert errors_of(price=price) == []


@pytest.mark.parametrize(
    "price",
    [0, -1, "-0.01", "1.234", Decimal("0.001"), "1000000.01", 1.5, True, "abc", "NaN", "Infinity"],
)
def test_invalid_prices_are_refused(price: Any) -> None:
    assert errors_of(price=price) == ["price"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "   "),
        ("name", "x" * 201),
        ("name", "bad\x00name"),
        ("name", "tab\tinside"),
        ("description", "x" * 5001),
        ("description", "bell\x07"),
        ("sku", "has space"),
        ("sku", "-leading-dash"),
        ("sku", "x" * 65),
        ("currency", "eur"),
        ("currency", "XXX"),
        ("category", "Not A Slug"),
        ("tags", [f"t{i}" for i in range(21)]),
        ("tags", ["dup", "dup"]),
        ("stock", -1),
        ("stock", "5"),
        ("stock", True),
        ("stock", 1.5),
        ("status", "published"),
    ],
)
def test_invalid_fields_are_refused(field: str, value: Any) -> None:
    assert errors_of(**{field: value})[0].startswith(field)


def test_unknown_fields_are_refused() -> None:
    assert errors_of(colour="red") == ["colour"]


def test_text_is_trimmed_and_nfc_normalized_and_descriptions_keep_newlines() -> None:
    product = ProductCreate.model_validate(
        product_payload(name="  Cafe\u0301 mug  ", description="line one\r\nline two")
    )
    assert product.name == "Caf\u00e9 mug"
    assert product.description == "line one\nline two"


def test_price_is_written_as_a_two_place_string() -> None:
    from catalog.products.schemas import Product

    product = Product.model_validate(
        {
            **product_payload(price=Decimal("5")),
            "id": "01JAAAAAAAAAAAAAAAAAAAAAAA",
            "owner": "editor-sub",
            "created_at": "2026-01-02T03:04:05.678Z",
            "updated_at": "2026-01-02T03:04:05.678Z",
            "version": 1,
        }
    )
    dumped = product.model_dump(mode="json")
    assert dumped["price"] == "5.00"
    assert dumped["created_at"] == "2026-01-02T03:04:05.678Z"


def test_a_patch_lists_only_the_fields_sent() -> None:
    patch = ProductPatch.model_validate({"price": "9.50", "tags": []})
    assert patch.changes() == {"price": Decimal("9.50"), "tags": []}


@pytest.mark.parametrize("body", [{}, {"name": None}, {"extra": 1}, {"price": "0"}])
def test_invalid_patches_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ProductPatch.model_validate(body)
