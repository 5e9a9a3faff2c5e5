"""Stamps every item of the products table with `schema_version` 1: the layout as it was
before versions were recorded (items written by the code since carry their version)."""

from __future__ import annotations

from catalog.migrations.model import Item, Update, Write, key_of

DESCRIPTION = "Stamp every existing item with schema_version 1"
KINDS = ("product", "tag", "word", "sku", "category")


def forward(item: Item) -> list[Write]:
    return [Update(key_of(item), set={"schema_version": 1})]


def backward(item: Item) -> list[Write]:
    return [Update(key_of(item), remove=("schema_version",))]
