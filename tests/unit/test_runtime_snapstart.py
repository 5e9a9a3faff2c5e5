"""catalog.runtime under SnapStart: a snap-start init registers its hooks with
snapshot-restore-py, and the hooks, run as the Lambda runtime runs them, reseed `random`,
close the AWS clients' pooled connections and forget the revocation cache; any other init
loads nothing of it."""

from __future__ import annotations

from typing import Any

import pytest

from catalog import runtime
from infra import topology
from tests.probe import ROOT, fresh_process

SANDBOX = {runtime.SANDBOX_VARIABLE: "127.0.0.1:9001"}
SNAPSTART_SANDBOX = {**SANDBOX, runtime.INITIALIZATION_VARIABLE: runtime.SNAPSTART}

# Loads a handler as Lambda would, then plays the snapshot and two restores from it the way
# the Lambda runtime calls snapshot-restore-py's registries (awslambdaric: before-snapshot
# hooks popped, so in reverse order of registration; after-restore hooks in order).
SNAPSHOT_PROBE = r"""
import importlib.util, json, random, sys
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from snapshot_restore_py import get_after_restore, get_before_snapshot
from catalog import runtime
from catalog.core import dynamo
from catalog.identity.repository import revocations

def pools():
    manager = dynamo.connection().client._endpoint.http_session._manager
    return len(manager.pools)

def open_pool():  # what a request leaves behind: a pool (no network needed to make one)
    manager = dynamo.connection().client._endpoint.http_session._manager
    manager.connection_from_url("https://dynamodb.us-east-1.amazonaws.com")

registered = {"before": [f.__qualname__ for f, _, _ in get_before_snapshot()],
              "after": [f.__qualname__ for f, _, _ in get_after_restore()]}

# The snapshot: init's state, with a pool and a cached access record in it
open_pool()
revocations()._cache["sub-1"] = (0.0, None)
before = get_before_snapshot()
while before:
    f, args, kwargs = before.pop()
    f(*args, **kwargs)
after_snapshot = {"pools": pools(), "cached": len(revocations()._cache)}
snapshot = random.getstate()

def environment(hooks):
    random.setstate(snapshot)
    open_pool()
    revocations()._cache["sub-1"] = (0.0, None)
    if hooks:
        for f, args, kwargs in get_after_restore():
            f(*args, **kwargs)
    return {"draws": [random.random() for _ in range(3)], "pools": pools(),
            "cached": len(revocations()._cache)}

print(json.dumps({"registered": registered, "after_snapshot": after_snapshot,
                  "without_hooks": [environment(False), environment(False)],
                  "restored": [environment(True), environment(True)]}))
"""

LOADED_PROBE = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps({"loaded": "snapshot_restore_py" in sys.modules}))
"""

USERS = topology.FUNCTIONS["users"]  # holds the revocation check from its init


@pytest.fixture(scope="module")
def snapstart_init() -> dict[str, Any]:
    """One SnapStart init, its snapshot and its restores (a fresh process: a few seconds)."""
    env = {**SNAPSTART_SANDBOX, "CATALOG_INIT_CLIENTS": "dynamodb"}
    seen: dict[str, Any] = fresh_process(SNAPSHOT_PROBE, str(ROOT / USERS.handler_file), env=env)
    return seen


def test_a_snap_start_init_registers_the_runtime_s_hooks_with_the_library(
    snapstart_init: dict[str, Any],
) -> None:
    # Given a Lambda sandbox running the init of a SnapStart version
    # When the handler module loads
    seen = snapstart_init
    # Then the runtime's two hooks are in snapshot-restore-py's registries, once each
    assert seen["registered"] == {"before": ["before_snapshot"], "after": ["after_restore"]}


def test_the_snapshot_holds_no_pooled_connection_and_no_cached_access_record(
    snapstart_init: dict[str, Any],
) -> None:
    seen = snapstart_init
    assert seen["after_snapshot"] == {"pools": 0, "cached": 0}


def test_each_restored_environment_draws_its_own_random_numbers(
    snapstart_init: dict[str, Any],
) -> None:
    seen = snapstart_init
    # Given two environments resumed from one snapshot: without the hooks they draw the very
    # same numbers (what the hooks are for)...
    plain = seen["without_hooks"]
    assert plain[0]["draws"] == plain[1]["draws"]
    # When the after-restore hooks run in each
    first, second = seen["restored"]
    # Then each draws its own
    assert first["draws"] != second["draws"]
    assert first["draws"] != plain[0]["draws"]


def test_a_restored_environment_opens_its_own_connections_and_reads_access_records_again(
    snapstart_init: dict[str, Any],
) -> None:
    seen = snapstart_init
    # Without the hooks the snapshot's pool and cached record would be used...
    assert seen["without_hooks"][0]["pools"] == 1
    assert seen["without_hooks"][0]["cached"] == 1
    # ...with them, neither survives the restore
    for environment in seen["restored"]:
        assert environment["pools"] == 0
        assert environment["cached"] == 0


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({**SANDBOX, runtime.INITIALIZATION_VARIABLE: "on-demand"}, id="on-demand"),
        pytest.param({runtime.SANDBOX_VARIABLE: None}, id="outside-a-sandbox"),
    ],
)
def test_any_other_init_does_not_load_the_library(env: dict[str, str | None]) -> None:
    # Given an on-demand init (dev, the event consumers) or no sandbox at all
    # When a handler loads
    seen = fresh_process(LOADED_PROBE, str(ROOT / USERS.handler_file), env=env)
    # Then snapshot-restore-py was never imported: its cold start is what it was
    assert seen == {"loaded": False}


def test_the_hooks_close_connections_of_clients_that_remain_usable() -> None:
    """Closing a pool is not closing the client: the next request opens a new connection."""
    from catalog.core import aws

    client = aws.client("sqs")
    manager = client._endpoint.http_session._manager
    manager.connection_from_url("https://sqs.us-east-1.amazonaws.com")
    assert len(manager.pools) == 1
    runtime.after_restore()
    assert len(manager.pools) == 0
    # The client still signs and builds requests (no network: the presigned URL is local;
    # its host is wherever the environment points, moto's if a local system set it)
    url = client.generate_presigned_url(
        "get_queue_attributes", Params={"QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/q"}
    )
    assert "X-Amz-Signature=" in url and "QueueUrl=https%3A%2F%2Fsqs" in url
