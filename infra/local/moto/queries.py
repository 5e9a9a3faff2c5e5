"""Bench-only shortcuts in moto's in-process Query that leave every answer as moto gives it.

moto keeps a table as a dict of partitions (`Table.items`) and answers every Query by
sorting all of the table's items and filtering them in Python; with 350,000 items that costs
seconds per Query. `faster_queries()` keeps moto's own `Table.query` for everything it
decides (items, order, `ScannedCount`, `LastEvaluatedKey`, limits, filters, projections) and
only shortens the list that Query starts from: instead of `all_items()` (every item, in key
order) it gets the items of the queried partition, in an order that moto's own sort then
leaves as it is. moto's own filter keeps exactly the items of that partition, so the items
it goes on with are the same, in the same order. Besides:

- string comparisons take a fast path for two strings: their values, as moto compares them
  (moto converts both values and compares those);
- no per-attribute item-size check, which is quadratic in an item's attributes (the items
  the bench stores are under 2 KB, far from DynamoDB's 400 KB);
- `put_items` stores items as moto's PutItem does without a condition (the same `Item`
  objects in the same places), without re-validating them one by one.

The partitions are cached until the next write through moto: every method of
`writes.WRITES` empties the cache, so a listing's pages reuse them.
tests/integration/test_bench_moto_index.py checks that the listings get the same responses,
page by page, with and without these shortcuts. Speed only, and for the bench: never
applied to the local system's moto server.
"""

from __future__ import annotations

import functools
import inspect
import operator
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from infra.local.moto._patching import load, mark, require
from infra.local.moto.writes import write_methods

EMPTIES_CACHE = "empties the query cache"


@dataclass
class _Partitions:
    """One table's items grouped by index partition, valid while `generation` is current."""

    table: Any
    generation: int
    # index name -> partition key value -> items (moto's storage order); None: not usable
    groups: dict[str, dict[Any, list[Any]] | None] = field(default_factory=dict)
    # (index name, partition key value) -> those items in moto's Query order; None: fall back
    ordered: dict[tuple[str, Any], list[Any] | None] = field(default_factory=dict)


class _Cache:
    """The partitions of the tables queried since the last write."""

    def __init__(self) -> None:
        self.generation = 0
        self.tables: dict[int, _Partitions] = {}

    def changed(self) -> None:
        self.generation += 1
        self.tables.clear()

    def of(self, table: Any) -> _Partitions:
        state = self.tables.get(id(table))
        if state is None or state.table is not table or state.generation != self.generation:
            state = self.tables[id(table)] = _Partitions(table, self.generation)
        return state


_cache = _Cache()


def _stored(table: Any) -> Iterator[Any]:
    """The table's items in the order `Table.all_items` collects them (before sorting)."""
    for hash_set in table.items.values():
        if table.range_key_attr:
            yield from hash_set.values()
        else:
            yield hash_set


def _all_items_key(item: Any) -> Any:
    """`Table.all_items`'s sort key."""
    return (item.hash_key, item.range_key) if item.range_key else item.hash_key


def _index_sort_attrs(table: Any, index: Any) -> tuple[list[str], list[str | None]]:
    """The hash and range attributes `Table.query` sorts an index's items by."""
    from moto.dynamodb.models.table import GlobalSecondaryIndex

    hash_keys = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    range_keys = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
    hash_attrs = [*hash_keys, table.hash_key_attr]
    if range_keys:
        return hash_attrs, [*range_keys, table.range_key_attr]
    if isinstance(index, GlobalSecondaryIndex) and table.range_key_attr:
        return hash_attrs, [table.range_key_attr, table.range_key_attr]
    return hash_attrs, [table.hash_key_attr, table.range_key_attr]


def _index_groups(table: Any, index: Any, attr: str) -> dict[Any, list[Any]] | None:
    """The items `Table.query` could keep for a Query on `index`, by their value of `attr`
    (the index's first partition key attribute), each list in moto's storage order."""
    from moto.dynamodb.models.dynamo_type import Item

    range_keys = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
    groups: dict[Any, list[Any]] = {}
    for item in _stored(table):
        if not isinstance(item, Item):
            continue
        value = item.attrs.get(attr)
        # moto skips an item without the partition key, or (with index range keys) without
        # all of them: `all(item.attrs.get(key) for key in index_range_keys)`
        if not value or (range_keys and not all(item.attrs.get(key) for key in range_keys)):
            continue
        try:
            groups.setdefault(value, []).append(item)
        except TypeError:  # an unhashable value (list or map) under a key attribute
            return None
    return groups


def _index_partition(table: Any, index: Any, conditions: Any) -> list[Any] | None:
    """The items of the queried index partition, in the order moto's Query sorts them."""
    first_hash = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
    attr, value = conditions[0]
    if attr != first_hash:
        return None
    state = _cache.of(table)
    if index.name not in state.groups:
        state.groups[index.name] = _index_groups(table, index, attr)
    groups = state.groups[index.name]
    if groups is None:
        return None
    try:
        key = (index.name, value)
        if key not in state.ordered:
            # moto sorts the partition's items (collected in all_items order) by the index
            # keys with a stable sort; sorting the same items the same two ways gives the
            # same order, which moto's sort of this list then keeps.
            items = sorted(groups.get(value, []), key=_all_items_key)
            hash_attrs, range_attrs = _index_sort_attrs(table, index)
            try:
                state.ordered[key] = table.sorted_items(hash_attrs, range_attrs, items)
            except KeyError:  # an item without a sort attribute: let moto decide
                state.ordered[key] = None
        return state.ordered[key]
    except TypeError:  # an unhashable partition value: let moto decide
        return None


def _candidates(table: Any, query: dict[str, Any]) -> list[Any] | None:
    """What moto's Query may read instead of `all_items()` (None: all of them)."""
    index_name = query.get("index_name")
    if index_name:
        index = next((i for i in table.all_indexes() if i.name == index_name), None)
        conditions = query.get("hash_key_conditions")
        if index is None or not conditions:
            return None  # moto raises its own error, or has no partition to look up
        return _index_partition(table, index, conditions)
    hash_key = query.get("hash_key")
    if hash_key is None:
        return None
    try:
        hash_set = table.items.get(hash_key)  # .get: a lookup must not add an empty partition
    except TypeError:
        return None
    if hash_set is None:
        return []
    if not table.range_key_attr:
        return [hash_set]
    return sorted(hash_set.values(), key=_all_items_key)


_active = threading.Lock()  # held while the shortcuts are in place


@contextmanager
def faster_queries() -> Iterator[None]:
    """moto with the shortcuts above, for the duration of the block (one block at a time:
    a second one would take the first one's patches for moto's own methods)."""
    if not _active.acquire(blocking=False):
        raise RuntimeError("faster_queries() is already active in this process")
    try:
        with _patched():
            yield
    finally:
        _active.release()


@contextmanager
def _patched() -> Iterator[None]:
    # everything patched or called below, checked before anything is patched
    cls, size_dict, _ = load(
        "moto.dynamodb.models.dynamo_type", "DynamoType", "LimitedSizeDict", "Item"
    )
    table_cls, _ = load("moto.dynamodb.models.table", "Table", "GlobalSecondaryIndex")
    require(table_cls, "query", "all_items", "all_indexes", "sorted_items", "put_item")
    comparisons = {name: getattr(cls, name) for name in ("__eq__", "__ne__", "__lt__", "__gt__")}
    size_check = size_dict.__setitem__
    writes = {(owner, name): getattr(owner, name) for owner, name in write_methods()}
    query = table_cls.query
    signature = inspect.signature(query)

    def fast(name: str, compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
        slow = comparisons[name]

        def method(self: Any, other: Any) -> bool:
            if self.type == "S" and getattr(other, "type", None) == "S":
                return compare(self.value, other.value)
            return bool(slow(self, other))

        return method

    def emptying_cache(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def write(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            finally:
                _cache.changed()

        return mark(write, EMPTIES_CACHE)

    @functools.wraps(query)
    def partition_query(self: Any, *args: Any, **kwargs: Any) -> Any:
        candidates = _candidates(self, signature.bind(self, *args, **kwargs).arguments)
        if candidates is None:
            return query(self, *args, **kwargs)
        self.all_items = lambda: candidates  # this call only: the instance shadows the method
        try:
            return query(self, *args, **kwargs)
        finally:
            del self.all_items

    cls.__eq__ = fast("__eq__", operator.eq)
    cls.__ne__ = fast("__ne__", operator.ne)
    cls.__lt__ = fast("__lt__", operator.lt)
    cls.__gt__ = fast("__gt__", operator.gt)
    size_dict.__setitem__ = dict.__setitem__
    for (owner, name), method in writes.items():
        setattr(owner, name, emptying_cache(method))
    table_cls.query = partition_query
    _cache.changed()
    try:
        yield
    finally:
        _cache.changed()
        table_cls.query = query
        for (owner, name), method in writes.items():
            setattr(owner, name, method)
        size_dict.__setitem__ = size_check
        for name, method in comparisons.items():
            setattr(cls, name, method)


def put_items(table: Any, items: Iterable[dict[str, Any]]) -> None:
    """Store each item (DynamoDB JSON) in moto `table` as an unconditional PutItem would:
    moto's `Item` built from the same attributes, in the same place of `table.items`.

    PutItem would also check each attribute's type and the key sizes, look up the item it
    replaces and evaluate an empty condition: none of that changes what is stored for valid
    items. An item without its keys, or with keys of another type, and a table with a stream
    go through moto's own `put_item`.
    """
    DynamoType, Item = load("moto.dynamodb.models.dynamo_type", "DynamoType", "Item")
    hash_attr, range_attr = table.hash_key_attr, table.range_key_attr
    key_types = {hash_attr: [table.hash_key_type], range_attr: [table.range_key_type]}
    try:
        for attrs in items:
            if table.stream_shard is not None or any(
                [*attrs.get(name, {})] != types for name, types in key_types.items() if name
            ):
                table.put_item(attrs)
                continue
            hash_value = DynamoType(attrs[hash_attr])
            range_value = DynamoType(attrs[range_attr]) if range_attr is not None else None
            item = Item(hash_value, range_value, attrs)
            if range_value:
                table.items[hash_value][range_value] = item
            else:
                table.items[hash_value] = item
    finally:
        _cache.changed()  # a write: any cached partition is stale
