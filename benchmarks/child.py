"""One measured process of `make bench`: `child.py cold|warm|profile CODE_DIR [fake|aws]`,
input on stdin.

cold: import the handler and serve one event, timed from interpreter start; print import
and first-request times and the peak RSS (VmHWM) on a marked line as soon as it has
answered (the parent's clock stops there), then the repository files it loaded. warm:
serve each route's events in a loop and print every invocation's duration in
microseconds. profile: serve them under cProfile and print, per route, the share of self
time spent in each owner's code (the framework, pydantic, ours...), which says where a
warm request's time goes. Runs under .venv-bench's Python, the same interpreter for our
functions and for the peers.
"""

import sys
import time

STARTED = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


class Context:
    function_name = "bench"
    memory_limit_in_mb = 256
    aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"


def peak_rss_mib() -> float:
    # VmHWM: this process image's peak resident set (ru_maxrss would carry over the parent's).
    with Path("/proc/self/status").open() as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    return kib / 1024


def local_files() -> list[str]:
    """The repository's own modules this process loaded (a peer ships them with it)."""
    root = Path(__file__).resolve().parents[1]
    files = set()
    for module in list(sys.modules.values()):
        path = Path(getattr(module, "__file__", None) or "/").resolve()
        if path.is_relative_to(root) and not path.relative_to(root).parts[0].startswith("."):
            files.add(str(path))
    return sorted(files)


def use_fake_store(handler: Any, seed: dict[str, Any]) -> None:
    """Swap the store behind the handler for an in-memory one holding `seed`."""
    from catalog.products.schemas import Product

    product = Product.model_validate(seed)
    if hasattr(handler, "service"):  # ours: the service takes its store (tests/fakes.py)
        from catalog.products.service import ProductService
        from tests.fakes import InMemoryProductStore

        store = InMemoryProductStore()
        handler.service = ProductService(store)
    else:  # a twin
        import twin_store

        store = twin_store.FakeStore()
        twin_store.store = store
    store.create(product)


class Cleanup:
    """Untimed, after each create against moto: remove the product and its SKU guard again.

    moto copies every table for each transaction (to roll back), so its transactions slow
    down as the table grows; removing what each create added keeps every target's creates
    running on the same small table.
    """

    def __init__(self) -> None:
        import os

        import boto3

        self.client = boto3.client("dynamodb")
        self.table = os.environ["TABLE_PRODUCTS"]

    def remove(self, product: dict[str, Any]) -> None:
        for pk, sk in (
            (f"PRODUCT#{product['id']}", "PRODUCT"),
            (f"SKU#{product['sku'].upper()}", "SKU"),
        ):
            self.client.delete_item(TableName=self.table, Key={"pk": {"S": pk}, "sk": {"S": sk}})


# Whose code a profiled function is, by where its file lives (first match wins).
OWNERS = (
    ("aws_lambda_powertools", "Powertools"),
    ("pydantic", "pydantic"),
    ("chalice", "Chalice"),
    ("fastapi", "FastAPI"),
    ("starlette", "FastAPI"),
    ("mangum", "FastAPI"),
    ("/layers/core/catalog/", "catalog (ours)"),
    ("/functions/", "handler (ours)"),
    ("/benchmarks/", "bench harness"),
    ("/logging/", "stdlib logging"),
    ("/json/", "stdlib json"),
)


def owner_of(filename: str) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"  # C functions: dict.update, isinstance, pydantic-core's Rust...
    return next((name for marker, name in OWNERS if marker in filename), "other Python")


def profile_routes(handler: Any, routes: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per route: the share of self time per owner over its invocations (after 100 untimed)."""
    import cProfile
    import pstats

    context, shares = Context(), {}
    for route, events in routes.items():
        for event in events[:100]:
            handler.lambda_handler(event, context)
        profiler = cProfile.Profile()
        profiler.enable()
        for event in events[100:]:
            handler.lambda_handler(event, context)
        profiler.disable()
        totals: dict[str, float] = {}
        stats: Any = pstats.Stats(profiler).stats
        for (filename, _, _), (_, _, self_time, _, _) in stats.items():
            owner = owner_of(filename)
            totals[owner] = totals.get(owner, 0.0) + self_time
        whole = sum(totals.values()) or 1.0
        shares[route] = {owner: seconds / whole for owner, seconds in totals.items()}
    return shares


def import_powertools_whole() -> None:
    """What a function would load without catalog.runtime's lazy packages: the three
    packages' `__init__`s run, under the same paused collector as the rest of the init."""
    import gc
    import importlib

    gc.disable()  # the runtime's boot keeps it off until ready(), as for any init
    for package in (
        "aws_lambda_powertools.event_handler",
        "aws_lambda_powertools.utilities.data_classes",
        "aws_lambda_powertools.utilities.parameters",
    ):
        importlib.import_module(package)


def main() -> None:
    mode, code = sys.argv[1], sys.argv[2]
    job = json.load(sys.stdin)
    sys.path[:0] = [code, str(Path(__file__).parent / "peers")]
    if os.environ.get("BENCH_EAGER_POWERTOOLS"):
        import_powertools_whole()
    import handler

    imported = time.perf_counter()
    if mode == "cold":
        response = handler.lambda_handler(job["event"], Context())
        served = time.perf_counter()
        answered = {
            "import_s": imported - STARTED,
            "first_s": served - imported,
            "status": response["statusCode"],
            "rss_mib": peak_rss_mib(),
        }
        # The parent stops its clock at this line (bench.ANSWERED); what follows is not timed.
        print("bench-answered " + json.dumps(answered), flush=True)
        print(json.dumps({"local_files": local_files()}))
        return
    if sys.argv[3] == "fake":
        use_fake_store(handler, job["seed"])
    if mode == "profile":
        print(json.dumps(profile_routes(handler, job["routes"])))
        return
    context, clock, out = Context(), time.perf_counter_ns, {}
    cleanup = Cleanup() if sys.argv[3] == "aws" else None
    for route, events in job["routes"].items():
        durations, statuses = [], {}
        for event in events:
            begun = clock()
            response = handler.lambda_handler(event, context)
            durations.append((clock() - begun) / 1000)
            statuses[response["statusCode"]] = statuses.get(response["statusCode"], 0) + 1
            if cleanup and event["httpMethod"] == "POST" and response["statusCode"] == 201:
                cleanup.remove(json.loads(response["body"]))
        out[route] = {"us": durations, "statuses": statuses}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
