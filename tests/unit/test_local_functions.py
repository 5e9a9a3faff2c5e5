"""The local Lambda stand-in: functions sharing one process each keep their own log context,
and each finds only the resources its own environment names."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest

from catalog.core import settings
from infra.local.functions import LocalFunction
from infra.topology import Function
from tests.unit.test_redaction import log_output as log_output  # the shared fixture

# A handler as the functions have them: Powertools' Lambda context injected, then a wait so
# that the other function's invocation overwrites the shared Logger's keys in between.
HANDLER = """
from catalog.core.observability import logger

@logger.inject_lambda_context
def lambda_handler(event, context):
    event["barrier"].wait(timeout=10)
    logger.warning("working", extra={"me": event["me"]})
    return event["me"]
"""


def test_concurrent_functions_log_under_their_own_names(
    tmp_path: Path, log_output: io.StringIO
) -> None:
    # Given two functions of the same process, each with a handler that logs mid-invocation
    (tmp_path / "handler.py").write_text(HANDLER)
    functions = {
        name: LocalFunction(
            Function(name, code=str(tmp_path)), f"catalog-local-{name}", "us-east-1"
        )
        for name in ("first", "second")
    }
    barrier = threading.Barrier(2)
    # When both are invoked at the same time, with API Gateway events of their own request ids
    threads = [
        threading.Thread(
            target=function.invoke,
            args=({"me": name, "barrier": barrier, "requestContext": {"requestId": f"r-{name}"}},),
        )
        for name, function in functions.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    # Then each line names the function and the request that wrote it
    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    written = {line["me"]: line for line in lines if line["message"] == "working"}
    assert set(written) == {"first", "second"}
    for name, line in written.items():
        assert line["function_name"] == f"catalog-local-{name}"
        assert line["correlation_id"] == f"r-{name}"
        assert line["cold_start"] is True


# A handler that looks up the table and the queue it was given, and one it was not.
RESOURCES_HANDLER = """
from catalog.core.settings import resource, settings

def lambda_handler(event, context):
    found = {}
    for name, look_up in (
        ("products", lambda: settings().table_name("products")),
        ("deliveries", lambda: resource("QUEUE_WEBHOOK_DELIVERIES")),
        ("access", lambda: settings().table_name("access")),
    ):
        try:
            found[name] = look_up()
        except RuntimeError as error:
            found[name] = str(error)
    return found
"""


def test_a_function_finds_only_the_resources_its_own_environment_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a process whose environment holds every function's resources (as the local
    # runner's does), and a function whose own environment names two of them
    monkeypatch.setenv("TABLE_PRODUCTS", "products-table")
    monkeypatch.setenv("TABLE_ACCESS", "access-table")
    monkeypatch.setenv("QUEUE_WEBHOOK_DELIVERIES", "http://queue")
    (tmp_path / "handler.py").write_text(RESOURCES_HANDLER)
    own = frozenset({"TABLE_PRODUCTS", "QUEUE_WEBHOOK_DELIVERIES", "STAGE"})
    function = LocalFunction(
        Function("scoped", code=str(tmp_path)), "catalog-local-scoped", "us-east-1", own
    )
    # When it looks them up
    found = function.invoke({})
    # Then it finds its own, and the other one is missing as it would be in the cloud
    assert found == {
        "products": "products-table",
        "deliveries": "http://queue",
        "access": "TABLE_ACCESS is not set",
    }
    # And outside the invocation (one function per process, as in Lambda) all are found
    assert settings.settings().table_name("access") == "access-table"
