"""Search finds products by the words of their description too (after those of the name
and the SKU, at most 12 in all: catalog.products.listing): each product's word copies are
rewritten, its item and tag copies stamped with schema_version 2.

The product item's write is conditioned on its version (by the engine), and the copies go
in the same transaction, so a product the API changed meanwhile is stepped again from what
the API wrote, or left alone when the API already wrote it at version 2.
"""

from __future__ import annotations

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from catalog.migrations.model import Delete, Item, Put, Update, Write, key_of
from catalog.products.items import ProductItem, copies, copy_keys, layout_of, to_product

DESCRIPTION = "Search words from the description too: rewrite every product's word copies"
KINDS = ("product",)
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _rewrite(item: Item, schema_version: int) -> list[Write]:
    raw = {name: _serializer.serialize(value) for name, value in item.items()}
    product = to_product(ProductItem.from_raw_data(raw))
    stored = set(copy_keys(product, layout_of(item.get("schema_version"))))
    wanted = copies(product, schema_version)
    writes: list[Write] = [
        Delete({"pk": item["pk"], "sk": sk}) for sk in sorted(stored - wanted.keys())
    ]
    writes += [
        Put({name: _deserializer.deserialize(value) for name, value in copy.serialize().items()})
        for _, copy in sorted(wanted.items())
    ]
    writes.append(Update(key_of(item), set={"schema_version": schema_version}))
    return writes


def forward(item: Item) -> list[Write]:
    return _rewrite(item, 2)


def backward(item: Item) -> list[Write]:
    return _rewrite(item, 1)
