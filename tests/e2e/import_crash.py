"""Fault injection for the 10,000-row import, installed in its separate system's process.

The worker dies once, in the middle of the chunk of rows 4,002..4,501: after its fifth
write of the chunk succeeded (the products are in the table), before the chunk is
recorded. The chunk messages sent are kept, to deliver them again later. What happened is
written to the JSON file `CATALOG_IMPORT_CRASH_STATE` names, for the test to read.

Importing the module changes nothing (the test imports it for `STATE`); `install()`, which
tests/separate_system.py calls in the child alone, patches the worker.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from catalog.imports import storage as import_storage, writing as import_writing
from infra import topology
from infra.local.moto import cap_stream_records

STATE = "CATALOG_IMPORT_CRASH_STATE"
FIRST_ROW, LAST_ROW, WRITES_BEFORE_CRASH = 4002, 4501, 5

_state: dict[str, Any] = {"writes": 0, "crashed": False, "messages": []}
_lock = threading.Lock()
_real_write = import_writing.ChunkWriter._write_group
_real_send = import_storage.ChunkQueue.send


def _save() -> None:
    path = Path(os.environ[STATE])
    path.with_suffix(".tmp").write_text(json.dumps(_state))
    path.with_suffix(".tmp").replace(path)  # the test never reads half a file


def _write_group(self: Any, group: list[Any], *args: Any) -> None:
    _real_write(self, group, *args)
    with _lock:
        if _state["crashed"] or not group:
            return
        if group[0].row < FIRST_ROW or group[-1].row > LAST_ROW:
            return
        _state["writes"] += 1
        if _state["writes"] < WRITES_BEFORE_CRASH:
            return
        _state["crashed"] = True
        _save()
    raise RuntimeError("injected: the worker died mid-chunk")


def _send(self: Any, messages: list[dict[str, Any]]) -> None:
    with _lock:
        _state["messages"] += messages
        _save()
    _real_send(self, messages)


# The pump plays the import worker's queues alone: the 10,000 products' change events are
# not what the test is about (tests/e2e/test_imports.py follows an import's events), and
# carrying them through the publisher, SNS and the webhook queues shared the child's one
# interpreter with the import (the 10,000 rows alone: 177 s with them, 83 s without).
PUMP_SOURCES = {
    "queue_sources": [s for s in topology.QUEUE_SOURCES if s.consumer == "import-worker"],
    "streams": [],
}


def install() -> None:
    # Nobody reads the products stream then: moto keeps its last records only.
    cap_stream_records()
    import_writing.ChunkWriter._write_group = _write_group  # type: ignore[method-assign]
    import_storage.ChunkQueue.send = _send  # type: ignore[method-assign]
