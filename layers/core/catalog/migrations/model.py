"""What a migration step returns: the writes that turn one stored item into its new form."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

Item = dict[str, Any]  # one stored item, attribute values as Python values (Decimal numbers)


@dataclass(frozen=True)
class Put:
    """Write `item` whole (its key inside it)."""

    item: Mapping[str, Any]


@dataclass(frozen=True)
class Update:
    """Set and remove attributes of the item at `key`, leaving the others as they are (so a
    concurrent counter update by the API, say, is kept). `expect`: values the item must
    still hold when written (None: absent), beyond its schema_version and version: a step
    that derives a value from others (a count) names them, so a change meanwhile makes the
    item be read and stepped again."""

    key: Mapping[str, Any]
    set: Mapping[str, Any] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    expect: Mapping[str, Any] = field(default_factory=dict)


class Reader(Protocol):
    """What a step may read besides its item (a step taking a second argument gets one)."""

    def count(self, index: str, partition_key: str, value: str) -> int:
        """How many items of `index` have `partition_key` = `value`."""
        ...


@dataclass(frozen=True)
class Delete:
    key: Mapping[str, Any]


Write = Put | Update | Delete
Step = Callable[..., Sequence[Write]]  # (item) or (item, reader) -> writes
KEY_ATTRIBUTES = ("pk", "sk")


def key_of(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in KEY_ATTRIBUTES}


def write_key(write: Write) -> dict[str, Any]:
    return key_of(write.item if isinstance(write, Put) else write.key)
