"""The product file's columns: exactly the create fields and `id`, and CSV cells a
spreadsheet would run as formulas neutralized, reversibly."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from catalog.products.columns import COLUMNS, csv_row, neutralize, record, restore
from catalog.products.schemas import Product, ProductCreate


def _product(**overrides: object) -> Product:
    fields: dict[str, object] = {
        "id": "01JC0000000000000000000001",
        "sku": "MUG-1",
        "name": "Enamel mug",
        "description": "Holds 350 ml.",
        "price": Decimal("14.90"),
        "currency": "EUR",
        "category": "kitchen",
        "tags": ["enamel", "blue"],
        "stock": 3,
        "status": "active",
        "owner": "editor-1",
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
        "version": 4,
    }
    return Product.model_validate({**fields, **overrides})


def test_the_columns_are_id_and_exactly_the_create_fields() -> None:
    # Then a file has id, then every field POST /v1/products takes, and nothing else
    assert COLUMNS[0] == "id"
    assert set(COLUMNS[1:]) == set(ProductCreate.model_fields)
    assert len(COLUMNS) == len(ProductCreate.model_fields) + 1


def test_a_record_is_a_valid_create_body_of_the_same_product() -> None:
    # Given a product
    product = _product()
    # When it becomes a JSON Lines record
    data = record(product)
    # Then without its id it is a create body that makes the same fields again
    body = ProductCreate.model_validate({k: v for k, v in data.items() if k != "id"})
    assert body.model_dump() == product.model_dump(include=set(ProductCreate.model_fields))
    assert data["price"] == "14.90" and data["tags"] == ["enamel", "blue"]
    # And it holds no stored-only field (owner, version, times, images)
    assert list(data) == list(COLUMNS)


def test_a_csv_row_joins_tags_with_a_bar() -> None:
    row = dict(zip(COLUMNS, csv_row(_product()), strict=True))
    assert row["tags"] == "enamel|blue"
    assert row["price"] == "14.90" and row["stock"] == "3"


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("'=already quoted", "''=already quoted"),
        ("plain mug", "plain mug"),
        ("'90s jacket", "'90s jacket"),
        ("mug = cup", "mug = cup"),
        ("", ""),
    ],
)
def test_formula_cells_are_neutralized(text: str, written: str) -> None:
    # When a cell is written to CSV, Then a spreadsheet sees text, never a formula
    assert neutralize(text) == written
    # And reading it back gives the text the product holds
    assert restore(written) == text


@given(st.text())
def test_restore_undoes_neutralize_for_every_text(text: str) -> None:
    assert restore(neutralize(text)) == text
    assert neutralize(text)[:1] not in ("=", "+", "-", "@", "\t", "\r")


def test_a_product_named_like_a_formula_is_exported_as_text() -> None:
    # Given a product whose name and description start like formulas
    product = _product(name="=1+1", description="-5% for members")
    # When its row is written as CSV and read back by a CSV reader
    text = io.StringIO()
    csv.writer(text).writerow(csv_row(product))
    cells = dict(zip(COLUMNS, next(csv.reader(io.StringIO(text.getvalue()))), strict=True))
    # Then the cells start with the quote, and restoring them gives the product's text
    assert cells["name"] == "'=1+1" and cells["description"] == "'-5% for members"
    assert restore(cells["name"]) == product.name
