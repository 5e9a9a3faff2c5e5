"""moto's DynamoDB stream shards kept short, where nobody reads them: the bench, and the
system of the 10,000-row import test (tests/e2e/import_crash.py), whose pump plays no stream."""

from __future__ import annotations

import threading
from typing import Any

from infra.local.moto._patching import load, require

_lock = threading.Lock()
_limit: int | None = None


def cap_stream_records(limit: int = 64) -> None:
    """Keep the last `limit` records of each of moto's stream shards (once per process).

    moto's own TransactWriteItems deep-copies each table it touches, stream records
    included, so every create made the next one slower (0.1 s to 0.6 s in 300 creates, and
    gigabytes of memory); the cheaper transaction of correctness.py no longer copies, but
    the records would still pile up for the whole run. Keeping the last ones (with sequence
    numbers still increasing) makes every target's creates run against the same table,
    whatever ran before. The local system's stream pollers, if they fall
    behind, read on from the oldest record kept (moto asserted instead, answering 500 to
    every GetRecords from then on: hundreds of failed polls, with tracebacks, in one run).
    Nothing the bench measures depends on those events; a test or `make run` would lose
    records, so only the bench calls this, and the one test system whose pump reads no
    stream at all.
    """
    global _limit
    with _lock:
        if _limit is not None:
            if limit != _limit:
                raise ValueError(f"stream records are capped at {_limit} already")
            return
        (shard,) = load("moto.dynamodb.models.table", "StreamShard")
        require(shard, "add", "get")
        original_add, original_get = shard.add, shard.get

        def add(self: Any, old: Any, new: Any) -> None:
            original_add(self, old, new)
            excess = len(self.items) - limit
            if excess > 0:
                del self.items[:excess]
                self.starting_sequence_number += excess

        def get(self: Any, start: int, quantity: int) -> list[dict[str, Any]]:
            records: list[dict[str, Any]] = original_get(
                self, max(start, self.starting_sequence_number), quantity
            )
            return records

        shard.add = add
        shard.get = get
        _limit = limit
