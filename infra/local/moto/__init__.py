"""Every patch this project applies to moto, refused unless moto is the version it was made for."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from importlib import metadata
from typing import Any

from infra.local.moto import correctness, queries, speed, streams
from infra.local.moto._patching import MotoMismatchError
from infra.local.moto.writes import WRITES

__all__ = [
    "PATCHED_FOR",
    "WRITES",
    "MotoMismatchError",
    "apply_correctness",
    "apply_server_speedups",
    "cap_stream_records",
    "check_moto_version",
    "faster_queries",
    "put_items",
    "remove_items",
]

# The patches reach into moto's internals, which change without notice between releases:
# each was read against this version (the one pyproject.toml and uv.lock pin).
PATCHED_FOR = "5.2.5"


def check_moto_version() -> None:
    """Refuse to patch any moto but the one the patches were written for."""
    try:
        found = metadata.version("moto")
    except metadata.PackageNotFoundError:
        found = "no moto installed"
    if found != PATCHED_FOR:
        raise MotoMismatchError(
            f"infra/local/moto patches were written for moto {PATCHED_FOR}; found {found}: "
            "re-check each patch against the new moto and update PATCHED_FOR "
            "(docs/architecture.md)"
        )


def apply_correctness() -> None:
    """moto's DynamoDB writes made atomic and serializable, as DynamoDB's are, and S3's
    presigned POST uploads checked as S3 checks them (once per process, from any thread):
    correctness, for everything that runs on moto server."""
    check_moto_version()
    correctness.apply()


def apply_server_speedups() -> None:
    """moto server's costs that grow with queue lengths and stream batches taken out (once
    per process, from any thread); every answer stays the same."""
    check_moto_version()
    speed.apply()


def faster_queries() -> AbstractContextManager[None]:
    """Bench only: moto's in-process Query shortcuts, for the duration of a `with` block."""
    check_moto_version()
    return queries.faster_queries()


def put_items(table: Any, items: Iterable[dict[str, Any]], *, unstreamed: bool = False) -> None:
    """Bench and test set-up only: items stored in a moto table as PutItem stores them,
    without its checks (`unstreamed`: and without stream records)."""
    check_moto_version()
    queries.put_items(table, items, unstreamed=unstreamed)


def remove_items(table: Any, keys: Iterable[dict[str, Any]]) -> None:
    """Test set-up only: the items of `keys` removed from a moto table, without stream
    records (the undoing of `put_items(..., unstreamed=True)`)."""
    check_moto_version()
    queries.remove_items(table, keys)


def cap_stream_records(limit: int = 64) -> None:
    """Bench only: each moto stream shard keeps its last `limit` records (once per process)."""
    check_moto_version()
    streams.cap_stream_records(limit)
