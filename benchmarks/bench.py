"""`make bench`: our functions against three peers, in one run on one machine.

Not a test. Writes benchmarks/results/report.{md,json}:
- cold start per function: fresh processes (median of BENCH_RUNS, default 10), peak RSS;
- warm latency per route, p50/p99 over BENCH_WARM invocations (default 2000), once with the
  store replaced by an in-memory fake and once against moto server (embedded AWS);
- bytes shipped per function (code + layers zipped, without what the Lambda runtime has);
- read amplification per documented access pattern (benchmarks/read_amplification.py);
- each of our figures as a ratio to each peer, and the budget lines, pass or fail.
Every measured process runs under .venv-bench's Python (see Makefile), ours and peers alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT), str(Path(__file__).parent)]

import shipped  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
PEERS = ROOT / "benchmarks" / "peers"
RUNS = int(os.environ.get("BENCH_RUNS", "10"))
WARM = int(os.environ.get("BENCH_WARM", "3000"))
# Against moto fewer: its GetItem takes ~15 ms and each transaction ~60 ms here (it deep-copies
# the tables it touches), and `make bench` must finish in minutes.
WARM_AWS = int(os.environ.get("BENCH_WARM_AWS", "500"))
WARM_AWS_POST = int(os.environ.get("BENCH_WARM_AWS_POST", "100"))
WARMUP = 100  # invocations per route served before timing (not counted)
WARMUP_AWS = 20
PYTHON = os.environ.get("BENCH_PYTHON", str(ROOT / ".venv-bench" / "bin" / "python"))
CHILD = str(Path(__file__).parent / "child.py")
MIB = 1024 * 1024

PEER_CODE = {
    "floor": PEERS / "floor",
    "fastapi_mangum": PEERS / "fastapi_mangum",
    "chalice_twin": PEERS / "chalice_twin",
}
PEER_TITLE = {"floor": "floor", "fastapi_mangum": "FastAPI+Mangum", "chalice_twin": "Chalice"}
API_FUNCTIONS = ("products", "categories", "meta", "users", "auth", "product-images")
SEED_CATEGORY = "bench"
OWNER = "00000000-0000-4000-8000-00000000bench"


def event(
    method: str,
    path: str,
    resource: str,
    body: str | None = None,
    path_parameters: dict[str, str] | None = None,
    claims: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event as the gateway sends it (Cognito claims included)."""
    headers = {"Host": "bench.example.com", "User-Agent": "bench"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    context: dict[str, Any] = {
        "requestId": "bench",
        "resourcePath": resource,
        "httpMethod": method,
        "path": path,
        "stage": "bench",
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "bench"},
    }
    if claims:
        context["authorizer"] = {"claims": claims}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": False,
    }


def editor_claims() -> dict[str, str]:
    """Claims of an editor's access token, as the Cognito authorizer passes them."""
    return {
        "sub": OWNER,
        "token_use": "access",
        "client_id": os.environ["COGNITO_CLIENT_ID"],
        "scope": "aws.cognito.signin.user.admin",
        "cognito:groups": "editor",
        # An issue time after any sign-out of the account (its access record is checked).
        "iat": str(int(time.time())),
    }


def get_event(product_id: str) -> dict[str, Any]:
    return event(
        "GET", f"/v1/products/{product_id}", "/v1/products/{id}", path_parameters={"id": product_id}
    )


def post_event(sku: str) -> dict[str, Any]:
    body = {
        "sku": sku,
        "name": "Bench kettle",
        "description": "A kettle made by the benchmark.",
        "price": "19.99",  # a string: FastAPI parses JSON numbers as floats, which we refuse
        "currency": "EUR",
        "category": SEED_CATEGORY,
        "tags": ["bench", "kitchen"],
        "stock": 5,
        "status": "active",
    }
    return event("POST", "/v1/products", "/v1/products", json.dumps(body), claims=editor_claims())


def seed() -> dict[str, Any]:
    """One category and one active product in the local table; the product as JSON."""
    from catalog.categories.repository import CategoryRepository
    from catalog.categories.schemas import CategoryCreate
    from catalog.categories.service import CategoryService
    from catalog.identity.principal import Principal
    from catalog.products.repository import ProductRepository
    from catalog.products.schemas import ProductCreate
    from catalog.products.service import ProductService

    CategoryService(CategoryRepository()).create(CategoryCreate(slug=SEED_CATEGORY, name="Bench"))
    data = json.loads(post_event("SEED-1")["body"])
    product = ProductService(ProductRepository()).create(
        ProductCreate.model_validate(data), Principal(sub=OWNER, role="editor")
    )
    return product.model_dump(mode="json")


def first_requests(product_id: str) -> dict[str, dict[str, Any]]:
    """Per function, its cold start request: a read that touches AWS where it has one."""
    forgot = json.dumps({"email": "nobody@example.com"})
    return {
        "products": get_event(product_id),
        "categories": event(
            "GET",
            f"/v1/categories/{SEED_CATEGORY}",
            "/v1/categories/{slug}",
            path_parameters={"slug": SEED_CATEGORY},
        ),
        "meta": event("GET", "/v1/health", "/v1/health"),
        "users": event("GET", "/v1/users/me", "/v1/users/me"),  # anonymous: 401 before AWS
        "auth": event("POST", "/v1/auth/password/forgot", "/v1/auth/password/forgot", forgot),
        # anonymous: 401 before any AWS call (what this one measures is the import)
        "product-images": event(
            "POST",
            f"/v1/products/{product_id}/images",
            "/v1/products/{id}/images",
            "{}",
            path_parameters={"id": product_id},
        ),
        EAGER: get_event(product_id),
        **{peer: get_event(product_id) for peer in PEER_CODE},
    }


ANSWERED = "bench-answered "  # child.py's marker for the line it prints once it has answered


def run_child(args: list[str], job: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, CHILD, *args],
        input=json.dumps(job),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# The products function once more, with Powertools' packages imported whole before its
# handler (child.py): what catalog.runtime's lazy packages save, measured in the same run.
EAGER = "products (Powertools eager)"


def function_of(target: str) -> str | None:
    """The topology function a target runs (None: a peer)."""
    return "products" if target == EAGER else None if target in PEER_CODE else target


def code_of(target: str) -> str:
    function = function_of(target)
    if function is None:
        return str(PEER_CODE[target])
    from infra import topology

    return str(ROOT / topology.FUNCTIONS[function].code)


def sandbox(target: str, env: dict[str, str]) -> dict[str, str]:
    """The environment of a measured process. Ours run as in a Lambda sandbox
    (AWS_LAMBDA_RUNTIME_API, so catalog.runtime applies its init measures, as in the cloud)
    with the clients their own function's init creates (the local system's environment
    holds another function's). The peers import our schemas, so they must not: importing
    `catalog` in a sandbox would pause their garbage collector for good (no peer calls
    catalog.runtime.ready), a measure that is ours, not their framework's."""
    from infra import topology

    function = function_of(target)
    if function is None:
        peer = {**env}
        peer.pop("AWS_LAMBDA_RUNTIME_API", None)
        peer.pop("CATALOG_INIT_CLIENTS", None)
        return peer
    extra = {"BENCH_EAGER_POWERTOOLS": "1"} if target == EAGER else {}
    return {
        **env,
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
        "CATALOG_INIT_CLIENTS": ",".join(topology.FUNCTIONS[function].init_clients),
        **extra,
    }


def cold_start(target: str, request: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """One fresh process: process start to first response, as the parent sees it.

    The child prints a marked line as soon as the handler has answered; the clock stops
    when that line arrives, so interpreter teardown and the child's bookkeeping after the
    answer (listing the repository files it loaded, which takes longer the more modules
    a target imports) do not count."""
    with tempfile.TemporaryFile("w+") as errors:  # a file: a full pipe would block the child
        started = time.perf_counter()
        child = subprocess.Popen(
            [PYTHON, CHILD, "cold", code_of(target)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=sandbox(target, env),
            text=True,
        )
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps({"event": request}))
        child.stdin.close()
        sample: dict[str, Any] | None = None
        for line in child.stdout:  # the handler's own log lines may come first
            if line.startswith(ANSWERED):
                sample = json.loads(line[len(ANSWERED) :])
                sample["process_s"] = time.perf_counter() - started
                break
        rest = child.stdout.read()
        if child.wait() != 0 or sample is None:
            errors.seek(0)
            raise SystemExit(f"cold start of {target} failed:\n{errors.read()[-3000:]}")
    sample.update(json.loads(rest.strip().splitlines()[-1]))
    return sample


def cold_starts(
    requests: dict[str, dict[str, Any]], env: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Fresh processes, one after the other per target, targets interleaved run by run so
    that load from other work on the machine falls on all of them alike."""
    samples: dict[str, list[dict[str, Any]]] = {target: [] for target in requests}
    for run in range(RUNS + 1):
        for target, request in requests.items():
            sample = cold_start(target, request, env)
            if run:  # run 0 is the warm-up: it writes the bytecode caches
                samples[target].append(sample)
    report = {}
    for target, rows in samples.items():
        report[target] = {
            "runs": len(rows),
            "process_s": statistics.median(r["process_s"] for r in rows),
            "import_s": statistics.median(r["import_s"] for r in rows),
            "first_request_s": statistics.median(r["first_s"] for r in rows),
            "peak_rss_mib": max(r["rss_mib"] for r in rows),
            "status": rows[0]["status"],
            "local_files": rows[0]["local_files"],
        }
    return report


def import_profile(target: str, env: dict[str, str], top: int = 12) -> list[dict[str, Any]]:
    """Where a target's import time goes: `python -X importtime`, self time summed per
    top-level package (one process, after the cold runs wrote the bytecode caches)."""
    code = code_of(target)
    script = f"import sys; sys.path[:0] = [{code!r}, {str(PEERS)!r}]; import handler"
    done = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", script],
        env=sandbox(target, env),
        capture_output=True,
        text=True,
        check=True,
    )
    totals: dict[str, int] = {}
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        package = parts[2].strip().split(".")[0]
        totals[package] = totals.get(package, 0) + int(parts[0])
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    rows = [{"package": name, "self_ms": us / 1000} for name, us in ranked[:top]]
    rows.append({"package": "(all)", "self_ms": sum(totals.values()) / 1000})
    return rows


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def warm(
    target: str, backend: str, routes: list[str], seed_product: dict[str, Any], env: dict[str, str]
) -> dict[str, Any]:
    skip = WARMUP if backend == "fake" else WARMUP_AWS
    gets = skip + (WARM if backend == "fake" else WARM_AWS)
    posts = skip + (WARM if backend == "fake" else WARM_AWS_POST)
    jobs: dict[str, list[dict[str, Any]]] = {}
    if "GET" in routes:
        jobs["GET /v1/products/{id}"] = [get_event(seed_product["id"])] * gets
    if "POST" in routes:
        prefix = f"B-{backend[0]}-{target[:6]}"
        jobs["POST /v1/products"] = [post_event(f"{prefix}-{i}") for i in range(posts)]
    job = {"routes": jobs, "seed": seed_product}
    out = run_child(["warm", code_of(target), backend], job, sandbox(target, env))
    report = {}
    for route, result in out.items():
        expected = 201 if route.startswith("POST") else 200
        if {int(s) for s in result["statuses"]} != {expected}:  # never time refusals as answers
            raise SystemExit(f"{target} {backend} {route}: statuses {result['statuses']}")
        timed = result["us"][skip:]
        report[route] = {
            "n": len(timed),
            "p50_ms": percentile(timed, 0.50) / 1000,
            "p99_ms": percentile(timed, 0.99) / 1000,
            "statuses": result["statuses"],
        }
    return report


PROFILED = int(os.environ.get("BENCH_PROFILED", "1000"))  # profiled invocations per route


def warm_profile(target: str, seed_product: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """Where a warm request's time goes, by owner of the code (fake store): cProfile's self
    time per package as a share of the whole (profiling slows every call alike, so shares,
    not times, are what it tells)."""
    jobs = {
        "GET /v1/products/{id}": [get_event(seed_product["id"])] * (100 + PROFILED),
        "POST /v1/products": [post_event(f"P-{target[:6]}-{i}") for i in range(100 + PROFILED)],
    }
    job = {"routes": jobs, "seed": seed_product}
    return run_child(["profile", code_of(target), "fake"], job, sandbox(target, env))


def read_amplification() -> dict[str, Any]:
    """benchmarks/read_amplification.py in a process of its own: it runs moto in-process
    (`mock_aws`), which must see neither the local system's endpoints, table names and
    cursor secret in this environment nor this process's moto patches."""
    script = Path(__file__).with_name("read_amplification.py")
    keep = ("PATH", "HOME", "TMPDIR", "BENCH_CATALOG_SIZES", "BENCH_PAGES")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, check=False
    )
    print(done.stdout, end="", flush=True)
    if done.returncode != 0:  # a broken measurement is reported, not hidden
        return {"available": True, "rows": [], "error": done.stderr.strip()[-2000:]}
    rows: list[dict[str, Any]] = json.loads((RESULTS / "read_amplification.json").read_text())
    return {"available": True, "rows": rows}


def ratio(ours: float, peer: float) -> float:
    return ours / peer if peer else float("inf")


def budget(report: dict[str, Any]) -> list[dict[str, Any]]:
    cold, fake, size = report["cold_start"], report["warm"]["fake"], report["bytes_shipped"]
    lines = []

    def line(name: str, value: float, limit: float, unit: str = "x") -> None:
        lines.append(
            {"budget": name, "value": value, "limit": limit, "unit": unit, "pass": value <= limit}
        )

    products = cold["products"]["process_s"]
    line("products cold start / Chalice", ratio(products, cold["chalice_twin"]["process_s"]), 1.0)
    line("products cold start / floor", ratio(products, cold["floor"]["process_s"]), 1.4)
    for name in API_FUNCTIONS:
        line(f"{name} peak RSS", cold[name]["peak_rss_mib"], 60, " MiB")
    for route, row in fake["products"].items():
        line(
            f"{route} warm p50 (fake) / Chalice",
            ratio(row["p50_ms"], fake["chalice_twin"][route]["p50_ms"]),
            2.0,
        )
        line(
            f"{route} warm p50 (fake) / FastAPI+Mangum",
            ratio(row["p50_ms"], fake["fastapi_mangum"][route]["p50_ms"]),
            0.25,
        )
    for name in API_FUNCTIONS:
        line(
            f"{name} bytes shipped / FastAPI+Mangum",
            ratio(size[name]["total"], size["fastapi_mangum"]["total"]),
            1.0,
        )
    amplification = report["read_amplification"]
    for row in amplification["rows"]:
        line(f"read amplification {row['pattern']} @ {row['products']}", row["ratio"], 1.25)
    if not amplification["rows"]:
        lines.append(
            {
                "budget": "read amplification <= 1.25 per documented pattern",
                "value": None,
                "limit": 1.25,
                "unit": "x",
                "pass": None,
            }
        )
    return lines


def warm_profile_table(profiles: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    columns = [(target, route) for target, routes in profiles.items() for route in routes]
    owners = sorted(
        {owner for target, route in columns for owner in profiles[target][route]},
        key=lambda owner: -max(profiles[t][r].get(owner, 0.0) for t, r in columns),
    )
    out = [
        "",
        "## Where warm time goes (fake store; cProfile self time, share per owner of the code)",
        "",
        "| owner | "
        + " | ".join(f"{PEER_TITLE.get(t, t)} {r.split()[0]}" for t, r in columns)
        + " |",
        "|---|" + "---|" * len(columns),
    ]
    for owner in owners:
        cells = [f"{profiles[t][r].get(owner, 0.0):.0%}" for t, r in columns]
        out.append(f"| {owner} | " + " | ".join(cells) + " |")
    return out


def table_head(title: str, columns: list[str], ratio_columns: list[str]) -> list[str]:
    """A report section's heading and its table's two header lines."""
    names = columns + ratio_columns
    return ["", f"## {title}", "", "| " + " | ".join(names) + " |", "|" + "---|" * len(names)]


def markdown(report: dict[str, Any]) -> str:
    cold, size = report["cold_start"], report["bytes_shipped"]
    peers = list(PEER_CODE)
    out = [
        f"# make bench: {report['when']}",
        "",
        f"Python {report['python']} on {report['cpus']} CPUs (shared); medians of "
        f"{RUNS} fresh processes; warm figures over n invocations per route after {WARMUP} "
        f"untimed ({WARMUP_AWS} against moto, where n is smaller: every moto call is slow). "
        "Ratios are ours / peer from this same run.",
        "",
        "## Budget",
        "",
        "| budget line | value | limit | |",
        "|---|---|---|---|",
    ]
    for row in report["budget"]:
        value = "n/a" if row["value"] is None else f"{row['value']:.2f}{row['unit']}"
        verdict = {True: "pass", False: "FAIL", None: "not measured"}[row["pass"]]
        out.append(f"| {row['budget']} | {value} | <= {row['limit']}{row['unit']} | {verdict} |")
    out += table_head(
        "Cold start (process start to first response)",
        ["target", "process", "import", "first request", "peak RSS", "status"],
        [f"/ {PEER_TITLE[p]}" for p in peers],
    )
    for name, row in cold.items():
        ratios = " | ".join(f"{ratio(row['process_s'], cold[p]['process_s']):.2f}x" for p in peers)
        out.append(
            f"| {PEER_TITLE.get(name, name)} | {row['process_s']:.3f} s | {row['import_s']:.3f} s "
            f"| {row['first_request_s']:.3f} s | {row['peak_rss_mib']:.1f} MiB "
            f"| {row['status']} | {ratios} |"
        )
    saved = cold[EAGER]["process_s"] - cold["products"]["process_s"]
    out += [
        "",
        f"catalog.runtime's lazy Powertools packages: products {saved * 1000:.0f} ms faster "
        f"than with the three packages imported whole ({EAGER}).",
    ]
    for backend, title in (("fake", "in-memory fake store"), ("aws", "moto server")):
        table = report["warm"][backend]
        out += table_head(
            f"Warm latency, {title}",
            ["target", "route", "n", "p50", "p99", "statuses"],
            [f"p50 / {PEER_TITLE[p]}" for p in peers],
        )
        for target, routes in table.items():
            for route, row in routes.items():
                ratios = " | ".join(
                    f"{ratio(row['p50_ms'], table[p][route]['p50_ms']):.2f}x"
                    if p in table and route in table[p]
                    else "-"
                    for p in peers
                )
                out.append(
                    f"| {PEER_TITLE.get(target, target)} | {route} | {row['n']} "
                    f"| {row['p50_ms']:.3f} ms | {row['p99_ms']:.3f} ms "
                    f"| {row['statuses']} | {ratios} |"
                )
    out += table_head(
        "Bytes shipped (zipped; code + layers or deps, without the runtime's boto3 & co)",
        ["target", "code", "layers / deps", "total"],
        [f"/ {PEER_TITLE[p]}" for p in peers],
    )
    for name, row in size.items():
        rest = row["total"] - row["code"]
        ratios = " | ".join(f"{ratio(row['total'], size[p]['total']):.2f}x" for p in peers)
        out.append(
            f"| {PEER_TITLE.get(name, name)} | {row['code'] / 1024:.1f} KiB "
            f"| {rest / MIB:.2f} MiB | {row['total'] / MIB:.2f} MiB | {ratios} |"
        )
    out += warm_profile_table(report["warm_profile"])
    profiles = report["import_profile"]
    out += [
        "",
        "## Where import time goes (`python -X importtime`, self time per top-level package)",
        "",
        "| " + " | ".join(PEER_TITLE.get(t, t) for t in profiles) + " |",
        "|" + "---|" * len(profiles),
    ]
    for rank in range(max(len(rows) for rows in profiles.values())):
        cells = []
        for rows in profiles.values():
            row = rows[rank] if rank < len(rows) else None
            cells.append(f"{row['package']} {row['self_ms']:.0f} ms" if row else "")
        out.append("| " + " | ".join(cells) + " |")
    amplification = report["read_amplification"]
    out += ["", "## Read amplification (items read per item returned; budget <= 1.25)", ""]
    if amplification["rows"]:
        out += ["| pattern | products | returned | read | ratio |", "|---|---|---|---|---|"]
        for row in amplification["rows"]:
            out.append(
                f"| {row['pattern']} | {row['products']} | {row['returned']} | {row['read']} "
                f"| {row['ratio']:.2f} |"
            )
    else:
        out.append(
            amplification.get("error")
            or "benchmarks/read_amplification.py is not there yet: not measured."
        )
    return "\n".join(out) + "\n"


def main() -> int:
    begun = time.perf_counter()
    if not Path(PYTHON).exists():
        raise SystemExit(f"{PYTHON} is missing: run `make bench`, which builds .venv-bench")
    from catalog.core import settings as catalog_settings
    from infra.local.moto import cap_stream_records
    from infra.local.system import LocalSystem

    cap_stream_records()
    system = LocalSystem(port=0).start()
    catalog_settings.settings.cache_clear()
    env = {**os.environ}
    # Bytecode as the layer ships it: each target's untimed first run writes __pycache__.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    report: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": subprocess.run(
            [PYTHON, "-c", "import sys; print(sys.version.split()[0])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip(),
        "cpus": os.cpu_count(),
        "runs": RUNS,
        "warm_invocations": WARM,
    }
    try:
        product = seed()
        print("cold starts ...", flush=True)
        report["cold_start"] = cold_starts(first_requests(product["id"]), env)
        report["warm"] = {"fake": {}, "aws": {}}
        for backend in ("fake", "aws"):
            for target in ("products", "chalice_twin", "fastapi_mangum"):
                print(f"warm {backend} {target} ...", flush=True)
                report["warm"][backend][target] = warm(
                    target, backend, ["GET", "POST"], product, env
                )
        print("warm aws floor ...", flush=True)
        report["warm"]["aws"]["floor"] = warm("floor", "aws", ["GET"], product, env)
        print("warm profiles ...", flush=True)
        report["warm_profile"] = {
            target: warm_profile(target, product, env) for target in ("products", "chalice_twin")
        }
        print("import profiles ...", flush=True)
        report["import_profile"] = {
            target: import_profile(target, env) for target in ("products", "chalice_twin", "floor")
        }
        print("read amplification ...", flush=True)
        report["read_amplification"] = read_amplification()
    finally:
        system.stop()
    print("bytes shipped ...", flush=True)
    from infra import topology

    sizes: dict[str, dict[str, int]] = {}
    for name in API_FUNCTIONS:
        spec = topology.FUNCTIONS[name]
        sizes[name] = shipped.ours(spec.code, spec.layers)
    for peer in PEER_CODE:
        files = [Path(f) for f in report["cold_start"][peer]["local_files"]]
        sizes[peer] = shipped.peer(peer, files)
    report["bytes_shipped"] = sizes
    for row in report["cold_start"].values():
        row.pop("local_files")
    report["budget"] = budget(report)
    report["seconds"] = round(time.perf_counter() - begun, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    text = (
        markdown(report)
        + f"\n(`benchmarks/bench.py`, this part of `make bench`, took {report['seconds']} s.)\n"
    )
    (RESULTS / "report.md").write_text(text)
    publish(text)
    print(text)
    return 0


PERFORMANCE = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def publish(text: str, markers: tuple[str, str] = (BEGIN, END)) -> None:
    """A report into docs/performance.md, between its markers, one heading level down."""
    begin, end = markers
    page = PERFORMANCE.read_text()
    head, rest = page.split(begin, 1)
    _, tail = rest.split(end, 1)
    nested = "\n".join("#" + line if line.startswith("#") else line for line in text.splitlines())
    PERFORMANCE.write_text(f"{head}{begin}\n{nested}\n{end}{tail}")


if __name__ == "__main__":
    sys.exit(main())
