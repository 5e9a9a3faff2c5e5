"""Shortcuts in moto's DynamoDB Query and Scan that leave every answer as moto gives it.

moto keeps a table as a dict of partitions (`Table.items`) and answers every Query, and every
page of a Scan, by sorting all of the table's items and filtering them in Python; with
350,000 items that costs seconds per call, and a paged Scan also walks every item before
its start key (O(n^2) overall). The shortcuts keep moto's own `Table.query` and `Table.scan`
for everything they decide (items, order, `ScannedCount`, `LastEvaluatedKey`, limits,
filters, projections, segments) and only shorten the list they start from:

- a Query gets the items of the queried partition (instead of `all_items()`: every item, in
  key order), in an order that moto's own sort then leaves as it is; moto's own filter
  keeps exactly the items of that partition, so the items it goes on with are the same,
  in the same order;
- a Scan of a table with string keys and a start key gets the items after that key, found
  by bisecting the sorted keys: moto would skip exactly those before it;
- `all_items()` sorts string keys as plain strings (moto compares two strings by value);
- string comparisons take a fast path for two strings: their values, as moto compares them.

The list each call starts from is handed over per thread (moto server answers on many
threads). Partitions and the sorted table are cached until the next write through moto:
every method of `writes.WRITES` empties the cache, so a listing's pages reuse them.

`apply_for_server()` puts them in place for good (moto server: the local system and the
migration tests). `faster_queries()` (the bench, in-process `mock_aws`) also skips the
per-attribute item-size check, which is quadratic in an item's attributes (the bench's
items are under 2 KB, far from DynamoDB's 400 KB), and `put_items` stores items as moto's
PutItem does without a condition (the same `Item` objects in the same places), without
re-validating them one by one.

tests/integration/test_bench_moto_index.py checks that listings, Queries and Scans get the
same responses, page by page, with and without these shortcuts.
"""

from __future__ import annotations

import bisect
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
    # every item, in `Table.all_items` order, and their keys as plain values
    everything: list[Any] | None = None
    keys: list[Any] | None = None


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


class _Override(threading.local):
    """The candidate list of the Query running on this thread, by table (moto server answers
    requests on many threads at once, so no table attribute may carry it)."""

    def __init__(self) -> None:
        self.items: dict[int, list[Any]] = {}


_override = _Override()


def _sorted_key(table: Any) -> Callable[[Any], Any]:
    """`Table.all_items`'s sort key, as plain values where the keys are strings: the same
    order (moto compares two strings by their values) at the cost of C comparisons."""
    strings = table.hash_key_type == "S" and table.range_key_type in (None, "S")
    if not strings:
        return _all_items_key
    if table.range_key_attr:
        return lambda item: (item.hash_key.value, item.range_key.value)
    return lambda item: item.hash_key.value


def _everything(table: Any) -> tuple[list[Any], list[Any] | None]:
    """Every item in `Table.all_items` order, and their keys as plain values (None where the
    keys are not strings), kept until the next write."""
    state = _cache.of(table)
    if state.everything is None:
        key = _sorted_key(table)
        items = sorted(_stored(table), key=key)
        plain = key is not _all_items_key
        # computed before they are stored: a reader of the same generation sees both or none
        state.keys, state.everything = ([key(i) for i in items] if plain else None), items
    return state.everything, state.keys


def _after_start_key(table: Any, scan: dict[str, Any]) -> list[Any] | None:
    """What a Scan of the table (not an index) with an exclusive start key may read instead
    of `all_items()`: the items after that key. moto walks from the first item and skips
    every one up to the key, which makes a Scan of n items in pages O(n^2); bisecting the
    sorted keys skips the same items. None: let moto walk."""
    start = scan.get("exclusive_start_key")
    if scan.get("index_name") or not start:
        return None
    items, keys = _everything(table)
    if keys is None:
        return None
    try:
        hash_value = start[table.hash_key_attr]["S"]
        at: Any = hash_value
        if table.range_key_attr:
            at = (hash_value, start[table.range_key_attr]["S"])
    except (KeyError, TypeError):
        return None  # moto answers a malformed key its own way
    return items[bisect.bisect_right(keys, at) :]


def targets() -> tuple[Any, Any, Any]:
    """moto's classes the shortcuts patch or call, or an error naming what moto lacks."""
    cls, size_dict, _ = load(
        "moto.dynamodb.models.dynamo_type", "DynamoType", "LimitedSizeDict", "Item"
    )
    table_cls, _ = load("moto.dynamodb.models.table", "Table", "GlobalSecondaryIndex")
    require(table_cls, "query", "scan", "all_items", "all_indexes", "sorted_items", "put_item")
    write_methods()
    return cls, size_dict, table_cls


def _install(*, skip_size_check: bool) -> Callable[[], None]:
    """The shortcuts in place; returns what puts moto back as it was. Everything patched or
    called is checked before anything is patched."""
    cls, size_dict, table_cls = targets()
    comparisons = {name: getattr(cls, name) for name in ("__eq__", "__ne__", "__lt__", "__gt__")}
    size_check = size_dict.__setitem__
    writes = {(owner, name): getattr(owner, name) for owner, name in write_methods()}
    query = table_cls.query
    scan = table_cls.scan
    all_items = table_cls.all_items
    signature = inspect.signature(query)
    scan_signature = inspect.signature(scan)

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

    @functools.wraps(all_items)
    def overridden_all_items(self: Any) -> list[Any]:
        candidates = _override.items.get(id(self))
        if candidates is not None:
            return candidates
        return list(_everything(self)[0])

    @functools.wraps(scan)
    def scan_from_start_key(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = scan_signature.bind(self, *args, **kwargs).arguments
        rest = _after_start_key(self, arguments)
        if rest is None:
            return scan(self, *args, **kwargs)
        _override.items[id(self)] = rest  # this call on this thread only
        try:
            return scan(self, *args, **kwargs)
        finally:
            del _override.items[id(self)]

    @functools.wraps(query)
    def partition_query(self: Any, *args: Any, **kwargs: Any) -> Any:
        candidates = _candidates(self, signature.bind(self, *args, **kwargs).arguments)
        if candidates is None:
            return query(self, *args, **kwargs)
        _override.items[id(self)] = candidates  # this call on this thread only
        try:
            return query(self, *args, **kwargs)
        finally:
            del _override.items[id(self)]

    cls.__eq__ = fast("__eq__", operator.eq)
    cls.__ne__ = fast("__ne__", operator.ne)
    cls.__lt__ = fast("__lt__", operator.lt)
    cls.__gt__ = fast("__gt__", operator.gt)
    if skip_size_check:
        size_dict.__setitem__ = dict.__setitem__
    for (owner, name), method in writes.items():
        setattr(owner, name, emptying_cache(method))
    table_cls.all_items = overridden_all_items
    table_cls.query = partition_query
    table_cls.scan = scan_from_start_key
    _cache.changed()

    def restore() -> None:
        _cache.changed()
        table_cls.query = query
        table_cls.scan = scan
        table_cls.all_items = all_items
        for (owner, name), method in writes.items():
            setattr(owner, name, method)
        size_dict.__setitem__ = size_check
        for name, method in comparisons.items():
            setattr(cls, name, method)

    return restore


_active = threading.Lock()  # held while the shortcuts are in place


@contextmanager
def faster_queries() -> Iterator[None]:
    """moto with the shortcuts above, for the duration of the block (one block at a time:
    a second one would take the first one's patches for moto's own methods)."""
    if not _active.acquire(blocking=False):
        raise RuntimeError("moto's query shortcuts are already in place in this process")
    try:
        restore = _install(skip_size_check=True)
        try:
            yield
        finally:
            restore()
    finally:
        _active.release()


def apply_for_server() -> None:
    """The shortcuts for good, without skipping moto's item-size check (moto server serves
    whatever a client sends; the bench's own items are known to be small). The lock is kept:
    `faster_queries()` is refused in this process from then on."""
    if not _active.acquire(blocking=False):
        raise RuntimeError("moto's query shortcuts are already in place in this process")
    _install(skip_size_check=False)


def put_items(table: Any, items: Iterable[dict[str, Any]], *, unstreamed: bool = False) -> None:
    """Store each item (DynamoDB JSON) in moto `table` as an unconditional PutItem would:
    moto's `Item` built from the same attributes, in the same place of `table.items`.

    PutItem would also check each attribute's type and the key sizes, look up the item it
    replaces and evaluate an empty condition: none of that changes what is stored for valid
    items. An item without its keys, or with keys of another type, and a table with a stream
    go through moto's own `put_item`, unless `unstreamed`: then the items are stored
    without stream records, as a catalog seeded before its stream's consumers existed (a
    test's 10,000 products, without 10,000 change events through the local pump).
    """
    DynamoType, Item = load("moto.dynamodb.models.dynamo_type", "DynamoType", "Item")
    hash_attr, range_attr = table.hash_key_attr, table.range_key_attr
    key_types = {hash_attr: [table.hash_key_type], range_attr: [table.range_key_type]}
    try:
        for attrs in items:
            if (table.stream_shard is not None and not unstreamed) or any(
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


def remove_items(table: Any, keys: Iterable[dict[str, Any]]) -> None:
    """Remove the items of these keys (DynamoDB JSON) from moto `table` without stream
    records: the undoing of `put_items(..., unstreamed=True)` (a test's catalog gone
    after its module, so later Queries do not sort its items). Absent keys are no error."""
    DynamoType = load("moto.dynamodb.models.dynamo_type", "DynamoType")[0]
    hash_attr, range_attr = table.hash_key_attr, table.range_key_attr
    try:
        for key in keys:
            hash_value = DynamoType(key[hash_attr])
            if range_attr is None:
                table.items.pop(hash_value, None)
                continue
            partition = table.items.get(hash_value)
            if partition is not None:
                partition.pop(DynamoType(key[range_attr]), None)
                if not partition:
                    del table.items[hash_value]
    finally:
        _cache.changed()
