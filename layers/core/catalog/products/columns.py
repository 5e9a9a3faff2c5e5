"""The columns of a product file (CSV or JSON Lines), shared by exports and imports.

A file's columns are `id` and exactly the fields `POST /v1/products` accepts, so an export
imported again with `mode: upsert` changes nothing. In CSV, `tags` is one cell of tags
joined by `|`, and text that a spreadsheet would run as a formula is neutralized with a
leading `'` (OWASP's advice for CSV injection); `restore` undoes it, so the text a product
holds survives the round trip exactly.
"""

from __future__ import annotations

import re
from typing import Any

from catalog.products.schemas import Product, ProductCreate

ID_COLUMN = "id"
# `id` first, then the create fields in their declaration order.
COLUMNS: tuple[str, ...] = (ID_COLUMN, *ProductCreate.model_fields)
TAG_SEPARATOR = "|"
ESCAPE = "'"
# A cell a spreadsheet reads as a formula starts with one of these (OWASP: =, +, -, @,
# tab, carriage return). Escaping also covers cells already starting with quotes before
# such a character, so `restore(neutralize(x)) == x` for every text.
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"^'+[=+\-@\t\r]")


def neutralize(cell: str) -> str:
    """`cell` as a spreadsheet shows it without running it: `=1+1` becomes `'=1+1`."""
    return ESCAPE + cell if _FORMULA.match(cell) else cell


def restore(cell: str) -> str:
    """The text `neutralize` was given (a CSV importer reads every text cell through it)."""
    return cell[1:] if _ESCAPED.match(cell) else cell


def record(product: Product) -> dict[str, Any]:
    """The product as one JSON Lines record: the columns, values as the API writes them
    (price a string with two places, tags a list)."""
    data = product.model_dump(mode="json", include=set(COLUMNS))
    return {column: data[column] for column in COLUMNS}


def csv_row(product: Product) -> list[str]:
    """The product as one CSV row of `COLUMNS`, each text cell neutralized."""
    data = record(product)
    data["tags"] = TAG_SEPARATOR.join(data["tags"])
    # An absent description is an empty cell (an import reads it as absent), never "None".
    return [neutralize("" if data[column] is None else str(data[column])) for column in COLUMNS]
