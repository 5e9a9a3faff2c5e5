"""`make bench`: what the revocation check costs a warm signed-in request.

Every signed-in request passes `RevocationCheck` (catalog/identity/revocation.py): the
caller's access record from this instance's cache, read from the `access` table at most
once per `ACCESS_CACHE_S` seconds per caller. Measured here, in one process:

- a cache hit, for a caller with no record (never changed: the common case) and for one
  with a record (signed out once, say): the time every warm request pays;
- a miss: the record read through the function's own repository (`AccessRecordRepository`,
  a consistent GetItem) from moto server on this machine, which a caller pays once per
  `ACCESS_CACHE_S` seconds per instance. moto's latency is no guide to DynamoDB's (a
  consistent GetItem in the same region takes single-digit milliseconds).

BENCH_REVOCATION_CALLS (default 200,000) hits are timed; BENCH_REVOCATION_MISSES (default
500) misses. The report goes to docs/performance.md between its markers.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]

CALLS = int(os.environ.get("BENCH_REVOCATION_CALLS", "200000"))
MISSES = int(os.environ.get("BENCH_REVOCATION_MISSES", "500"))
MARKERS = ("<!-- revocation:begin -->", "<!-- revocation:end -->")


def _per_call_us(run: Any, calls: int, rounds: int = 5) -> float:
    """The median over `rounds` of the mean time of one call, in microseconds."""
    means = []
    for _ in range(rounds):
        began = time.perf_counter()
        run(calls)
        means.append((time.perf_counter() - began) / calls * 1e6)
    return statistics.median(means)


def hits() -> dict[str, float]:
    from catalog.identity.principal import Principal
    from catalog.identity.revocation import AccessRecord, RevocationCheck

    class Records:
        def __init__(self) -> None:
            self.records = {"changed": AccessRecord("changed", not_before=1)}

        def get(self, sub: str) -> AccessRecord | None:
            return self.records.get(sub)

        def save(self, record: AccessRecord) -> None:
            self.records[record.sub] = record

    check = RevocationCheck(Records(), ttl=lambda: 3600.0)
    figures = {}
    for case, sub in (("no record", "unchanged"), ("a record", "changed")):
        principal = Principal(sub=sub, role="editor", issued_at=2)
        check(principal)  # the one miss, before timing

        def run(n: int, principal: Principal = principal) -> None:
            for _ in range(n):
                check(principal)

        figures[case] = _per_call_us(run, CALLS)
    return figures


def misses() -> dict[str, float]:
    """Reads of the access table through the repository, on moto server."""
    from moto.server import ThreadedMotoServer

    from benchmarks.migrations import moto_environment
    from infra import topology
    from infra.local.provision import provision

    moto_environment()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        os.environ["AWS_ENDPOINT_URL"] = url
        names = provision("local", url, os.environ["AWS_DEFAULT_REGION"])
        os.environ[topology.TABLES["access"].env_var] = names["tables"]["access"]
        from catalog.core import settings
        from catalog.identity.repository import AccessRecordRepository
        from catalog.identity.revocation import AccessRecord

        settings.settings.cache_clear()
        repository = AccessRecordRepository()
        repository.save(AccessRecord("changed", not_before=1))
        repository.get("changed")  # the connection, before timing
        figures = {}
        for case, sub in (("no record", "unchanged"), ("a record", "changed")):

            def run(n: int, sub: str = sub) -> None:
                for _ in range(n):
                    repository.get(sub)

            figures[case] = _per_call_us(run, MISSES, rounds=3)
        return figures
    finally:
        server.stop()


def markdown(hit: dict[str, float], miss: dict[str, float]) -> str:
    from infra.stages import stage

    ttl = stage("prod").access_cache_s  # ACCESS_CACHE_S of the cloud stages
    lines = [
        "### Revocation check (a warm signed-in request)",
        "",
        f"`benchmarks/revocation.py`: {CALLS:,} cache hits and {MISSES:,} misses per case, "
        "median of the rounds; one process on this machine.",
        "",
        "| caller | cache hit (every warm request), µs | miss: access table read on moto "
        f"server (once per {ttl:g} s per caller and instance), µs |",
        "|---|---|---|",
    ]
    for case in hit:
        lines.append(f"| {case} | {hit[case]:.2f} | {miss[case]:,.0f} |")
    lines += [
        "",
        "A hit is a dictionary look-up under a lock and the record's comparison with the "
        "token: what the check adds to every warm request. A miss is one consistent "
        "GetItem; moto's time is not DynamoDB's.",
    ]
    return "\n".join(lines)


def main() -> str:
    text = markdown(hits(), misses())
    print(text)
    return text


if __name__ == "__main__":
    from benchmarks.bench import publish

    publish(main(), MARKERS)
