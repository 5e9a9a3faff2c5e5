"""Shared test set-up: a safe AWS environment, factories, and the local system over HTTP."""

from __future__ import annotations

import os
import sys

# Tests never reach AWS: fake credentials, a fixed region, no instance metadata look-ups.
os.environ.update(
    AWS_DEFAULT_REGION="us-east-1",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_EC2_METADATA_DISABLED="true",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_METRICS_NAMESPACE="CatalogTests",
    POWERTOOLS_SERVICE_NAME="catalog",
    LOG_LEVEL="WARNING",
)
os.environ.pop("AWS_PROFILE", None)

from collections.abc import Iterator
from typing import Any

import pytest

from infra import layer_pruning
from tests import local_systems
from tests.factories import product_payload as product_payload  # the tests' import

# Modules the Lambda layer leaves out fail to import in tests too, as they would in Lambda.
layer_pruning.guard()


@pytest.fixture(scope="session")
def local_system() -> Iterator[Any]:
    """The whole system as `make run` starts it (demo users included), on free ports."""
    from catalog.core import aws, cursor, dynamo, settings
    from catalog.identity import principal
    from catalog.images import storage
    from infra.local.demo_users import DEMO_USERS, create_demo_users, demo_password, login
    from infra.local.seed import seed_categories
    from infra.local.system import LocalSystem

    # Without the stage's throttles: the suite signs in faster than the auth routes' 5/s
    # allow (tests/e2e/test_throttling.py runs a gateway with them).
    system = LocalSystem(port=0, throttling=False).start(ready=False)
    _refuse_in_process_mocks()
    _moto_requests_untraced(system)
    settings.settings.cache_clear()  # the environment now names the local resources
    cursor._signing_key.cache_clear()
    principal._key_set.cache_clear()
    dynamo.connection.cache_clear()  # a handler imported earlier made it for another endpoint
    # Clients made earlier on this worker (unit tests) hold the credentials of their time:
    # the local S3 checks a presigned form's session token against the system's.
    aws._session.cache_clear()
    storage._client.cache_clear()
    create_demo_users(system.url, system.aws_url, system.region, system.user_pool)
    seed_categories(system.url, login(system.url, DEMO_USERS["admin"], demo_password()))
    system.mark_ready()
    local_systems.RUNNING.append(system)
    yield system
    local_systems.RUNNING.remove(system)
    system.stop()


def _moto_requests_untraced(system: Any) -> None:
    """Coverage (make test) traces every thread of the process, and the local system's moto
    server, one thread per request, spends its time in moto's code: not measured, but each
    of its calls still goes through the tracer, which made the suite about a fifth slower
    on what moto does for the end-to-end tests. Its requests run untraced: the moto patches
    they run (infra/local/moto/) count as covered only where their own tests run them on
    servers of their own (tests/integration/test_moto_patches.py and others), which are
    still traced."""
    server = system._moto._server
    handle = server.process_request_thread

    def untraced(request: Any, client_address: Any) -> None:
        sys.settrace(None)
        handle(request, client_address)

    server.process_request_thread = untraced


def _refuse_in_process_mocks() -> None:
    """moto keeps one state per process, which the local system's moto server and every
    other in-process moto server share; `mock_aws` resets all of it when it starts and
    stops, so a test using it would wipe this worker's tables and queues, and the tests that
    run after it there would fail with "resource not found". It is refused here, loudly;
    what needs it runs in a child process (tests/integration/test_bench_moto_index.py)."""
    from moto.core.models import MockAWS

    def refused(self: Any, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(
            "mock_aws would reset the moto state this worker's local system runs on: "
            "use a ThreadedMotoServer of the test's own in a region of its own, or a child "
            "process"
        )

    MockAWS.start = refused  # type: ignore[method-assign]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`--dist loadgroup` on pytest 9: xdist 3.8 marks a test's group by appending
    `@<group>` to `item._nodeid`, which pytest 9 no longer reads (the node id is `item._id`),
    so every group was spread over the workers and each rebuilt the group's fixtures (the
    synthesized stacks, the 1,000-product catalog). This puts the suffix where pytest 9
    reads it, on xdist's workers only; once xdist does it itself, it does nothing."""
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId  # pytest's own; its absence must fail loudly

    for item in items:
        groups = sorted(
            {
                str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                for m in item.iter_markers("xdist_group")
            }
        )
        if groups and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")  # type: ignore[attr-defined]
