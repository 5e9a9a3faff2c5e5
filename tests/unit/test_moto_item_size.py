"""moto server's item constructor (infra/local/moto/speed.py `_new_item`) stores what moto's
own would and refuses an item at the same size: its `LimitedSizeDict`, set attribute by
attribute, is the reference."""

from __future__ import annotations

from typing import Any

import pytest
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

from infra.local.moto.speed import ITEM_SIZE_LIMIT, _new_item


def built(attrs: dict[str, Any]) -> Item:
    item: Item = object.__new__(Item)
    _new_item(item, DynamoType({"S": "pk"}), DynamoType({"S": "sk"}), attrs)
    return item


def reference(attrs: dict[str, Any]) -> LimitedSizeDict:
    stored = LimitedSizeDict()
    for key, value in attrs.items():
        stored[key] = DynamoType(value)  # moto's own check, attribute by attribute
    return stored


PRODUCT: dict[str, Any] = {
    "pk": {"S": "PRODUCT#01J"},
    "sk": {"S": "PRODUCT"},
    "name": {"S": "Brass lamp ✓"},
    "price": {"N": "12.50"},
    "tags": {"SS": ["brass", "lamp"]},
    "images": {"L": [{"M": {"key": {"S": "images/a.webp"}, "w": {"N": "640"}}}]},
    "data": {"B": b"\x00\x01"},
    "in_stock": {"BOOL": True},
    "gone": {"NULL": True},
}


def test_an_item_is_stored_as_moto_stores_it() -> None:
    item = built(PRODUCT)
    assert type(item.attrs) is LimitedSizeDict
    assert item.attrs == reference(PRODUCT)
    assert list(item.attrs) == list(PRODUCT)
    assert item.size() == sum(len(k.encode()) + DynamoType(v).size() for k, v in PRODUCT.items())


@pytest.mark.parametrize("spare", [-1, 0, 1])
def test_an_item_is_refused_at_the_size_moto_refuses(spare: int) -> None:
    # Given an item whose last attribute takes it to the limit, one byte under it or over it
    head = {"pk": {"S": "P"}, "sk": {"S": "S"}}
    used = sum(len(k) + len(v["S"]) for k, v in head.items())
    fill = ITEM_SIZE_LIMIT - used - len("x") + spare
    attrs = {**head, "x": {"S": "a" * fill}}
    # Then moto's own check and the constructor agree
    if spare > 0:
        with pytest.raises(ItemSizeTooLarge):
            reference(attrs)
        with pytest.raises(ItemSizeTooLarge):
            built(attrs)
    else:
        assert built(attrs).attrs == reference(attrs)


def test_later_updates_are_still_checked_by_moto() -> None:
    item = built(PRODUCT)
    with pytest.raises(ItemSizeTooLarge):
        item.attrs["huge"] = DynamoType({"S": "a" * ITEM_SIZE_LIMIT})
