"""One measured process of `make bench`: `child.py cold|warm CODE_DIR [fake|aws]`, input on stdin.

cold: import the handler and serve one event, timed from interpreter start; prints import
and first-request times and the peak RSS (VmHWM). warm: serve each route's events in a loop
and print every invocation's duration in microseconds. Runs under .venv-bench's Python, the
same interpreter for our functions and for the peers.
"""

import sys
import time

STARTED = time.perf_counter()

import json  # noqa: E402
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


def main() -> None:
    mode, code = sys.argv[1], sys.argv[2]
    job = json.load(sys.stdin)
    sys.path[:0] = [code, str(Path(__file__).parent / "peers")]
    import handler

    imported = time.perf_counter()
    if mode == "cold":
        response = handler.lambda_handler(job["event"], Context())
        served = time.perf_counter()
        print(
            json.dumps(
                {
                    "import_s": imported - STARTED,
                    "first_s": served - imported,
                    "status": response["statusCode"],
                    "rss_mib": peak_rss_mib(),
                    "local_files": local_files(),
                }
            )
        )
        return
    if sys.argv[3] == "fake":
        use_fake_store(handler, job["seed"])
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
