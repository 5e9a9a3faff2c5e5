"""Where moto server differs from AWS in ways the catalog relies on, make it behave like AWS.

moto applies a conditional write or a transaction in several unguarded steps, so two
threads can both pass the same condition; DynamoDB never lets that happen (conditional
writes are atomic, transactions serializable). Without this, two concurrent creates with
one SKU could both succeed locally, which they cannot in the cloud.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_lock = threading.RLock()
_applied = False


def _serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    return call


def make_dynamodb_writes_atomic() -> None:
    """Serialize moto's DynamoDB writes (once per process)."""
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        setattr(DynamoDBBackend, name, _serialized(getattr(DynamoDBBackend, name)))
    _applied = True
