"""What a migration step returns: the writes that turn one stored item into its new form."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Item = dict[str, Any]  # one stored item, attribute values as Python values (Decimal numbers)


@dataclass(frozen=True)
class Put:
    """Write `item` whole (its key inside it)."""

    item: Mapping[str, Any]


@dataclass(frozen=True)
class Update:
    """Set and remove attributes of the item at `key`, leaving the others as they are (so a
    concurrent counter update by the API, say, is kept)."""

    key: Mapping[str, Any]
    set: Mapping[str, Any] = field(default_factory=dict)
    remove: tuple[str, ...] = ()


@dataclass(frozen=True)
class Delete:
    key: Mapping[str, Any]


Write = Put | Update | Delete
Step = Callable[[Item], Sequence[Write]]
KEY_ATTRIBUTES = ("pk", "sk")


def key_of(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in KEY_ATTRIBUTES}


def write_key(write: Write) -> dict[str, Any]:
    return key_of(write.item if isinstance(write, Put) else write.key)
