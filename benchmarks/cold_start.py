"""Cold start per function: a fresh process imports the handler and serves its first request.

Not a test: `make bench` runs it and writes benchmarks/results/cold_start.{md,json}. Each
sample is a new Python process (median of N) timed from spawn to the first response, with
its peak RSS. The handler talks to moto server started once for the run, like `make run`.
"""

from __future__ import annotations

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
RUNS = int(os.environ.get("BENCH_RUNS", "10"))

# First request of each function: a read that touches DynamoDB.
FIRST_REQUEST = {
    "products": ("GET", "/v1/products/01J0000000000000000000000A", "/v1/products/{id}"),
    "categories": ("GET", "/v1/categories/kitchen", "/v1/categories/{slug}"),
    "meta": ("GET", "/v1/health", "/v1/health"),
    "users": ("GET", "/v1/users/me", "/v1/users/me"),  # anonymous: answered before any AWS call
    "auth": ("POST", "/v1/auth/password/forgot", "/v1/auth/password/forgot"),
    # anonymous: answered 401 before any AWS call (the import is what this one measures)
    "product-images": (
        "POST",
        "/v1/products/01J0000000000000000000000A/images",
        "/v1/products/{id}/images",
    ),
}
BODIES = {"auth": '{"email": "nobody@example.com"}'}

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path[:0] = [sys.argv[2]]
import handler
t1 = time.perf_counter()
event = json.loads(sys.argv[1])
class Context:
    function_name = "bench"; memory_limit_in_mb = 256; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
response = handler.lambda_handler(event, Context())
t2 = time.perf_counter()
# VmHWM (peak resident set of this process image); ru_maxrss would carry over the
# high-water mark of the forking parent across exec.
rss_kib = next(int(line.split()[1]) for line in open("/proc/self/status")
               if line.startswith("VmHWM:"))
print(json.dumps({"import_s": t1 - t0, "first_s": t2 - t1, "status": response["statusCode"],
                  "rss_mib": rss_kib / 1024}))
"""


def event(method: str, path: str, resource: str, body: str | None) -> dict[str, object]:
    return {
        "httpMethod": method,
        "path": path,
        "resource": resource,
        "headers": {"Content-Type": "application/json"} if body else {},
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {"requestId": "bench", "path": path, "stage": "bench"},
    }


def main() -> int:
    from infra import topology
    from infra.local.system import LocalSystem

    system = LocalSystem(port=0).start()
    # The layer's folders, as Lambda puts them on sys.path: the catalog and the topology.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)])}
    # Measure with bytecode compiled, as the layer ships it: one untimed warm-up run per
    # function writes __pycache__ (which PYTHONDONTWRITEBYTECODE would forbid).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    report: dict[str, dict[str, float]] = {}
    try:
        for name, (method, path, resource) in FIRST_REQUEST.items():
            code = str(ROOT / topology.FUNCTIONS[name].code)
            samples = []
            for run in range(RUNS + 1):
                started = time.perf_counter()
                output = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        CHILD,
                        json.dumps(event(method, path, resource, BODIES.get(name))),
                        code,
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                total = time.perf_counter() - started
                sample = json.loads(output.stdout.strip().splitlines()[-1])
                if run:  # run 0 is the warm-up
                    samples.append({**sample, "process_s": total})
            report[name] = {
                "runs": RUNS,
                "median_process_s": statistics.median(s["process_s"] for s in samples),
                "median_import_s": statistics.median(s["import_s"] for s in samples),
                "median_first_request_s": statistics.median(s["first_s"] for s in samples),
                "max_rss_mib": max(s["rss_mib"] for s in samples),
                "status": samples[0]["status"],
            }
    finally:
        system.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cold_start.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"# Cold start (median of {RUNS} fresh processes, {sys.version.split()[0]})",
        "",
        "| function | process start to first response | handler import | first request "
        "| peak RSS |",
        "|---|---|---|---|---|",
    ]
    for name, row in report.items():
        lines.append(
            f"| {name} | {row['median_process_s']:.3f} s | {row['median_import_s']:.3f} s "
            f"| {row['median_first_request_s']:.3f} s | {row['max_rss_mib']:.1f} MiB |"
        )
    (RESULTS / "cold_start.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
