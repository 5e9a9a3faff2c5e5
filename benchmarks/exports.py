"""`make bench`, exports: the export worker writing a catalog to S3, rows per second and
its peak memory.

The catalog (tests/scale.py's products, BENCH_EXPORT_PRODUCTS, default 100,000) is stored
straight into moto server's table in this process (as PutItem would store it, without a
stream), with moto's Query shortcuts on (infra/local/moto/queries.py: the same answers,
page by page). The worker runs in a process of its own, as in Lambda: `ExportService.run`
over the products listing, an S3 multipart upload into moto, the job record in the exports
table; the figures are its wall time, rows per second and peak RSS (VmHWM), with the RSS it
had before the run (its imports and clients) beside it: the difference is what the export
itself holds. moto's time is in the wall time (it serves every Query and part upload in
this process, sharing the machine), so rows per second is a floor for AWS.

Do not run it at 100,000 on a shared machine: `BENCH_EXPORT_PRODUCTS=2000` proves it works.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]
RESULTS = ROOT / "benchmarks" / "results"
PRODUCTS = int(os.environ.get("BENCH_EXPORT_PRODUCTS", "100000"))
FORMATS = ("csv", "jsonl")
MOTO_ACCOUNT = "123456789012"  # moto's default account
PER_CATEGORY = 5000
ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",  # moto's fake credentials
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "CURSOR_SIGNING_KEY": "bench-only-key",
    "LOG_LEVEL": "WARNING",
    # As the local stage: moto slows down under load (catalog.core.aws, infra/stages.py).
    "CATALOG_AWS_READ_TIMEOUT_S": "60",
    "TABLE_PRODUCTS": "bench-products",
    "TABLE_EXPORTS": "bench-exports",
    "BUCKET_EXPORTS": "bench-exports",
}


def peak_rss_mib() -> float:
    with Path("/proc/self/status").open() as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    return kib / 1024


def rss_mib() -> float:
    with Path("/proc/self/status").open() as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return kib / 1024


def worker(file_format: str) -> None:
    """The measured process: one export job, run to its end; its figures as JSON."""
    from catalog.exports.repository import ExportRepository
    from catalog.exports.schemas import ExportRequest
    from catalog.exports.service import ExportService
    from catalog.exports.storage import ExportFiles, export_key
    from catalog.identity.principal import Principal
    from catalog.products.repository import ProductRepository

    class NoQueue:
        def send(self, job_id: str) -> None:
            pass

    files = ExportFiles()
    service = ExportService(ExportRepository(), ProductRepository(), files, NoQueue())
    job = service.start(ExportRequest(format=file_format), Principal("bench-admin", "admin"))
    files._s3.head_bucket(Bucket=files.name)  # the S3 client made, as in a warm worker
    before = rss_mib()
    started = time.perf_counter()
    outcome = service.run(job.id)
    seconds = time.perf_counter() - started
    done = service.get(job.id, Principal("bench-admin", "admin"))
    head = files._s3.head_object(Bucket=files.name, Key=export_key(job.id, file_format))
    print(
        json.dumps(
            {
                "format": file_format,
                "outcome": outcome,
                "rows": done.rows,
                "bytes": int(head["ContentLength"]),
                "seconds": round(seconds, 2),
                "rows_per_s": round(done.rows / seconds),
                "rss_before_mib": round(before, 1),
                "peak_rss_mib": round(peak_rss_mib(), 1),
            }
        )
    )


def measure(products: int = PRODUCTS) -> list[dict[str, Any]]:
    os.environ.update(ENV)
    import boto3
    from moto.dynamodb.models import dynamodb_backends
    from moto.server import ThreadedMotoServer

    from infra import topology
    from infra.local.moto import faster_queries, put_items
    from infra.local.provision import table_definition

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's request lines
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    rows = []
    try:
        with faster_queries():
            dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
            for logical in ("products", "exports"):
                definition = table_definition(
                    topology.TABLES[logical], ENV[f"TABLE_{logical.upper()}"]
                )
                definition.pop("StreamSpecification", None)  # no reader: keep no records
                dynamodb.create_table(**definition)
            boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=ENV["BUCKET_EXPORTS"])
            table = dynamodb_backends[MOTO_ACCOUNT][ENV["AWS_DEFAULT_REGION"]].get_table(
                ENV["TABLE_PRODUCTS"]
            )
            from tests.scale import build_catalog

            started = time.perf_counter()
            categories = [f"c{n}" for n in range(max(1, products // PER_CATEGORY))]
            catalog = build_catalog(
                products,
                "bench",
                categories,
                lambda items: put_items(table, (item.serialize() for item in items)),
            )
            active = sum(p.status == "active" for p in catalog.products)
            print(
                f"{products} products stored in {time.perf_counter() - started:.0f} s", flush=True
            )
            for file_format in FORMATS:
                done = subprocess.run(
                    [sys.executable, __file__, "worker", file_format],
                    env={**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'core'}:{ROOT}"},
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode != 0:
                    raise SystemExit(f"the {file_format} export failed:\n{done.stderr[-3000:]}")
                row = json.loads(done.stdout.strip().splitlines()[-1])
                if row["rows"] != active or row["outcome"] != "done":
                    raise SystemExit(f"the {file_format} export wrote {row}, not {active} rows")
                row["products"] = products
                rows.append(row)
                print(f"  {file_format}: {row}", flush=True)
    finally:
        server.stop()
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| format | products in the catalog | rows exported | file | seconds | rows/s "
        "| RSS before | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['format']} | {r['products']:,} | {r['rows']:,} | {r['bytes'] / 2**20:.1f} MiB "
        f"| {r['seconds']} | {r['rows_per_s']:,} | {r['rss_before_mib']} MiB "
        f"| {r['peak_rss_mib']} MiB |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    if sys.argv[1:2] == ["worker"]:
        os.environ.update({k: v for k, v in ENV.items() if k not in os.environ})
        worker(sys.argv[2])
        return
    rows = measure()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "exports.json").write_text(json.dumps(rows, indent=2) + "\n")
    (RESULTS / "exports.md").write_text(markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
