"""The images function: cold start and processing time per photo size, with peak memory.

Not a test: `make bench` runs it and writes benchmarks/results/images.{md,json}. Each
sample is a fresh Python process that imports the images handler and handles one SQS
batch holding one S3 notification (a JPEG photo of the given size, uploaded beforehand to
the embedded S3), as Lambda's first invocation of a new instance would. The local event
pump is stopped first so that only the measured process handles the upload.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]
RESULTS = ROOT / "benchmarks" / "results"
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
PHOTOS = {"1 Mpx": (1200, 900), "12 Mpx": (4000, 3000), "24 Mpx": (6000, 4000)}

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path[:0] = [sys.argv[2]]
import handler
t1 = time.perf_counter()
class Context:
    function_name = "bench"; memory_limit_in_mb = 1024; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
response = handler.lambda_handler(json.loads(sys.argv[1]), Context())
t2 = time.perf_counter()
rss_kib = next(int(line.split()[1]) for line in open("/proc/self/status")
               if line.startswith("VmHWM:"))
print(json.dumps({"import_s": t1 - t0, "first_s": t2 - t1, "failures":
                  len(response["batchItemFailures"]), "rss_mib": rss_kib / 1024}))
"""


def photo(width: int, height: int) -> bytes:
    from PIL import Image

    shade = Image.radial_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 16)
    image = Image.merge("RGB", (shade, noise, Image.linear_gradient("L").resize((width, height))))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def sqs_event(bucket: str, key: str, size: int) -> dict[str, object]:
    notification = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Post",
                "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": size}},
            }
        ]
    }
    return {
        "Records": [
            {
                "messageId": "bench",
                "receiptHandle": "bench",
                "body": json.dumps(notification),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench",
                "awsRegion": "us-east-1",
            }
        ]
    }


def main() -> int:
    import boto3

    from catalog.core import settings
    from catalog.identity.principal import Principal
    from catalog.images.schemas import ImageUploadRequest
    from catalog.images.service import ImageService, upload_key
    from catalog.images.storage import MediaBucket
    from catalog.products.repository import ProductRepository
    from catalog.products.schemas import ProductCreate
    from catalog.products.service import ProductService
    from infra import topology
    from infra.local.system import LocalSystem

    system = LocalSystem(port=0).start()
    assert system.events is not None
    system.events.stop()  # the measured processes alone handle the uploads
    settings.settings.cache_clear()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)])}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure with bytecode, as the layers ship it
    code = str(ROOT / topology.FUNCTIONS["image-processor"].code)
    repository = ProductRepository()
    products = ProductService(repository)
    images = ImageService(products, repository, MediaBucket())
    owner = Principal(sub="bench", role="admin")
    s3 = boto3.client("s3", endpoint_url=system.aws_url)
    bucket = MediaBucket().name
    report: dict[str, dict[str, float]] = {}
    try:
        create_bench_category()
        for label, (width, height) in PHOTOS.items():
            data = photo(width, height)
            samples = []
            for run in range(RUNS + 1):
                product = products.create(
                    ProductCreate(
                        sku=f"BENCH-{label.split()[0]}-{run}-{time.time_ns()}",
                        name="Bench",
                        price="1",  # type: ignore[arg-type]
                        currency="EUR",
                        category="bench",
                    ),
                    owner,
                )
                request = ImageUploadRequest(content_type="image/jpeg", content_length=len(data))
                image_id = images.request_upload(product.id, request, owner).image_id
                key = upload_key(product.id, image_id)
                s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="image/jpeg")
                started = time.perf_counter()
                output = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        CHILD,
                        json.dumps(sqs_event(bucket, key, len(data))),
                        code,
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                total = time.perf_counter() - started
                sample = json.loads(output.stdout.strip().splitlines()[-1])
                status = repository.get(product.id).images[0].status
                assert sample["failures"] == 0 and status == "ready", (sample, status)
                if run:  # run 0 writes the bytecode cache
                    samples.append({**sample, "process_s": total})
            report[label] = {
                "bytes": len(data),
                "runs": RUNS,
                "median_process_s": statistics.median(s["process_s"] for s in samples),
                "median_import_s": statistics.median(s["import_s"] for s in samples),
                "median_first_event_s": statistics.median(s["first_s"] for s in samples),
                "max_rss_mib": max(s["rss_mib"] for s in samples),
            }
    finally:
        system.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "images.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"# Images function (median of {RUNS} fresh processes, {sys.version.split()[0]})",
        "",
        "| JPEG upload | bytes | process start to done | handler import | first event "
        "(verify + 2 renditions + writes) | peak RSS |",
        "|---|---|---|---|---|---|",
    ]
    for label, row in report.items():
        lines.append(
            f"| {label} | {row['bytes']:,} | {row['median_process_s']:.3f} s "
            f"| {row['median_import_s']:.3f} s | {row['median_first_event_s']:.3f} s "
            f"| {row['max_rss_mib']:.1f} MiB |"
        )
    (RESULTS / "images.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def create_bench_category() -> None:
    """The `bench` category the measured products belong to (products need one that exists)."""
    from catalog.categories.repository import CategoryRepository
    from catalog.categories.schemas import CategoryCreate
    from catalog.categories.service import CategoryService

    CategoryService(CategoryRepository()).create(CategoryCreate(slug="bench", name="Bench"))


if __name__ == "__main__":
    sys.exit(main())
