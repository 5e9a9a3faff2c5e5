"""Categories count their active products (`active_count`, what anyone is shown), but those
written before the count existed have none (and show 0), or one the API started adding
to from nothing: each category's count is set to its active products, counted on gsi2.

The write is conditioned on both counts as read: a product write meanwhile changes one of
them, and the category is counted again. (A count of a global secondary index is
eventually consistent: run it where writes of the last second do not matter, or run it
again; a rerun recounts nothing already at version 3, so recount with down and up.)
"""

from __future__ import annotations

from catalog.migrations.model import Item, Reader, Update, Write, key_of
from catalog.products.items import category_partition

DESCRIPTION = "Count each category's active products (active_count)"
KINDS = ("category",)


def forward(item: Item, read: Reader) -> list[Write]:
    active = read.count("gsi2", "gsi2pk", category_partition(str(item["slug"]), "active"))
    return [
        Update(
            key_of(item),
            set={"active_count": active, "schema_version": 3},
            expect={
                "product_count": item["product_count"],
                "active_count": item.get("active_count"),
            },
        )
    ]


def backward(item: Item) -> list[Write]:
    return [
        Update(
            key_of(item),
            set={"schema_version": 1},
            remove=("active_count",),
            expect={
                "product_count": item["product_count"],
                "active_count": item.get("active_count"),
            },
        )
    ]
