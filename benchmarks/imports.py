"""`make bench`, imports: a CSV of BENCH_IMPORT_ROWS rows (default 100,000) imported into
the local stack, as a client would: `POST /v1/imports` over HTTP, the file through the
presigned form, S3's notification onto the queue.

The local event pump is stopped once the stack is up, and one fresh Python process plays
the import worker's Lambda (one instance: it takes the queues' messages one at a time, as
the event source mappings deliver them, and invokes the handler) until the job is done.
So the figures are the worker's own: rows per second on this machine (one instance; in
AWS the chunks run in parallel), DynamoDB items and capacity units written per row
(counted on the worker's client by DynamoDB's documented rules, as in
`benchmarks/migrations.py`: moto reports none for transactions), and the worker's peak
RSS (VmHWM of that process). The change events the writes put on the table's stream are
not delivered here (the pump is stopped): their cost is the publisher's.

    BENCH_IMPORT_ROWS=2000 .venv/bin/python benchmarks/imports.py   # a quick check
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]
RESULTS = ROOT / "benchmarks" / "results"
ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
PROFILE = os.environ.get("BENCH_IMPORT_PROFILE") == "1"
MARKERS = ("<!-- imports:begin -->", "<!-- imports:end -->")

# The worker's Lambda: receive one message at a time from either queue, invoke, delete.
CHILD = r"""
import cProfile, json, os, pstats, sys, time
job_id, code, profile, queues = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4:]
sys.path[:0] = [code]
from benchmarks.migrations import Meter, _answer, _params
from catalog.core import dynamo
import boto3
import handler
meter = Meter()
# pynamodb sends through the one client of catalog.core.dynamo: count what it writes.
dynamo.connection().client.meta.events.register("provide-client-params.dynamodb.*", _params(meter))
dynamo.connection().client.meta.events.register("after-call.dynamodb.*", _answer(meter))
from catalog.imports.records import ImportRepository
sqs = boto3.client("sqs")
class Context:
    function_name = "import-worker"; memory_limit_in_mb = 1024; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:import-worker"
    def get_remaining_time_in_millis(self): return 300_000
jobs = ImportRepository()
profiler = cProfile.Profile() if profile else None
started = None
invocations = failures = 0
while True:
    job = jobs.get(job_id)
    if job.status in ("done", "failed"):
        break
    got = []
    for url in queues:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1,
                                  AttributeNames=["All"]).get("Messages", [])
        if got:
            break
    if not got:
        continue
    message = got[0]
    started = started or time.perf_counter()
    event = {"Records": [{
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"], "attributes": message.get("Attributes", {}),
        "messageAttributes": {}, "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench", "awsRegion": "us-east-1",
    }]}
    if profiler: profiler.enable()
    answer = handler.lambda_handler(event, Context())
    if profiler: profiler.disable()
    invocations += 1
    if answer["batchItemFailures"]:
        failures += 1
    else:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
seconds = time.perf_counter() - (started or time.perf_counter())
rss_kib = next(int(line.split()[1]) for line in open("/proc/self/status")
               if line.startswith("VmHWM:"))
if profiler:
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
print(json.dumps({"status": job.status, "seconds": seconds, "invocations": invocations,
                  "failures": failures, "written_items": meter.written_items,
                  "write_units": meter.write_units, "read_units": meter.read_units,
                  "calls": meter.calls, "rss_mib": rss_kib / 1024,
                  "created": int(job.created), "failed": int(job.failed)}))
"""


def csv_file(rows: int) -> bytes:
    """`rows` products of the `bench` category: names of three words, two tags each."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["sku", "name", "description", "price", "currency", "category", "tags", "stock", "status"]
    )
    run = time.time_ns() % 10**9
    for n in range(rows):
        writer.writerow(
            [
                f"BENCH-{run}-{n:06d}",
                f"Enamel mug {n}",
                "Holds 350 ml.",
                f"{10 + n % 90}.50",
                "EUR",
                "bench",
                "enamel|kitchen",
                n % 50,
                "active",
            ]
        )
    return out.getvalue().encode("utf-8")


def main() -> dict[str, Any]:
    import requests

    from benchmarks.images import create_bench_category
    from catalog.core import settings
    from infra import topology
    from infra.local.demo_users import DEMO_USERS, create_demo_users, demo_password, login
    from infra.local.moto import cap_stream_records
    from infra.local.system import LocalSystem

    # Nobody reads the stream here (the pump is stopped): 100,000 rows would leave 1.3
    # million records in moto's memory, copied from every item written.
    cap_stream_records()
    system = LocalSystem(port=0, throttling=False).start()
    try:
        settings.settings.cache_clear()
        create_demo_users(system.url, system.aws_url, system.region, system.user_pool)
        create_bench_category()
        assert system.events is not None
        system.events.stop()  # the measured process alone runs the worker
        token = login(system.url, DEMO_USERS["admin"], demo_password())
        data = csv_file(ROWS)
        headers = {"Authorization": f"Bearer {token}"}
        answer = requests.post(
            f"{system.url}/v1/imports",
            json={"format": "csv", "mode": "create", "content_length": len(data)},
            headers=headers,
            timeout=30,
        )
        answer.raise_for_status()
        created = answer.json()
        form = created["upload"]
        sent = requests.post(
            form["url"],
            data=form["fields"],
            files={"file": ("bench.csv", data, form["fields"]["Content-Type"])},
            timeout=600,
        )
        assert sent.status_code == 204, sent.text
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)]),
        }
        code = str(ROOT / topology.FUNCTIONS["import-worker"].code)
        began = time.perf_counter()
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                CHILD,
                created["job"]["id"],
                code,
                "1" if PROFILE else "0",
                system.names["queues"]["import-uploads"],
                system.names["queues"]["import-chunks"],
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - began
        if child.returncode != 0:
            raise RuntimeError(child.stderr[-4000:])
        if PROFILE:
            print(child.stderr[-12000:])
        sample = json.loads(child.stdout.strip().splitlines()[-1])
    finally:
        system.stop()
    assert sample["status"] == "done" and sample["created"] == ROWS, sample
    report = {
        "rows": ROWS,
        "bytes": len(data),
        "seconds": round(sample["seconds"], 1),
        "process_s": round(wall, 1),
        "rows_per_s": round(ROWS / sample["seconds"], 1),
        "written_items_per_row": round(sample["written_items"] / ROWS, 2),
        "write_units_per_row": round(sample["write_units"] / ROWS, 2),
        "read_units_per_row": round(sample["read_units"] / ROWS, 2),
        "invocations": sample["invocations"],
        "failed_invocations": sample["failures"],
        "peak_rss_mib": round(sample["rss_mib"], 1),
        "calls": sample["calls"],
    }
    print(json.dumps(report), flush=True)
    return report


def markdown(report: dict[str, Any]) -> str:
    return (
        "\n".join(
            [
                f"## Imports ({report['rows']:,} CSV rows into the local stack)",
                "",
                "`benchmarks/imports.py`: `POST /v1/imports`, the file through the presigned form, "
                "then one worker process taking the queues' messages one at a time (one Lambda "
                "instance; AWS runs the chunks in parallel). Units computed from the item sizes by "
                "DynamoDB's rules (a transactional write is 2 units per KB).",
                "",
                "| rows | file | worker time | rows/s (moto, 1 instance) | items written / row "
                "| write units / row | read units / row | invocations | peak RSS of the worker |",
                "|---|---|---|---|---|---|---|---|---|",
                f"| {report['rows']:,} | {report['bytes'] / 1024 / 1024:.1f} MiB "
                f"| {report['seconds']} s "
                f"| {report['rows_per_s']:,} | {report['written_items_per_row']} "
                f"| {report['write_units_per_row']} | {report['read_units_per_row']} "
                f"| {report['invocations']} | {report['peak_rss_mib']} MiB |",
                "",
                f"DynamoDB calls of the worker: {json.dumps(report['calls'])}.",
            ]
        )
        + "\n"
    )


if __name__ == "__main__":
    from benchmarks.bench import publish

    result = main()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "imports.json").write_text(json.dumps(result, indent=2) + "\n")
    text = markdown(result)
    print(text)
    if ROWS >= 100_000:  # a quick run (fewer rows) does not replace the recorded figures
        publish(text, MARKERS)
