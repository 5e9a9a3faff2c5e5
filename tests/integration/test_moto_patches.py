"""The moto patches (infra/local/moto): refused on another moto, one list of writes for every
patch, and PartiQL writes as atomic against moto server as DynamoDB makes them.

Checks that change moto's classes for good (deleting a method, patching a fresh moto) run in
a child process: this worker's moto server, if the local system started one, shares them.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import tomllib
import uuid
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[2]
# A region of its own: moto's PartiQL reads every table of its region for each statement,
# and other tests of this worker keep thousands of items in us-east-1.
REGION = "eu-west-3"


def _in_child(case: str) -> dict[str, Any]:
    env = {
        **{name: os.environ[name] for name in ("PATH", "HOME", "TMPDIR") if name in os.environ},
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)]),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [sys.executable, __file__, case],
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report


# --- the version rule --------------------------------------------------------------------


def _entry_points() -> dict[str, Callable[[], Any]]:
    from infra.local import moto as patches

    return {
        "apply_correctness": patches.apply_correctness,
        "apply_server_speedups": patches.apply_server_speedups,
        "faster_queries": patches.faster_queries,
        "put_items": lambda: patches.put_items(None, []),
        "cap_stream_records": patches.cap_stream_records,
    }


def _patched_classes() -> list[Any]:
    from moto.dynamodb.models import DynamoDBBackend, dynamo_type
    from moto.dynamodb.models.table import StreamShard, Table
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.s3.responses import S3Response
    from moto.sqs.models import Queue, SQSBackend

    return [
        DynamoDBBackend,
        Table,
        StreamShard,
        dynamo_type.DynamoType,
        dynamo_type.LimitedSizeDict,
        Queue,
        SQSBackend,
        DomainDispatcherApplication,
        DynamoDBStreamsHandler,
        S3Response,
    ]


@pytest.mark.parametrize("entry_point", sorted(_entry_points()))
def test_every_patch_is_refused_on_another_moto_version(
    entry_point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra.local.moto import PATCHED_FOR, MotoMismatchError

    # Given an installed moto that reports another version than the patches were written for
    reported = metadata.version

    def version(name: str) -> str:
        return "5.3.0" if name == "moto" else reported(name)

    monkeypatch.setattr(metadata, "version", version)
    before = [dict(vars(cls)) for cls in _patched_classes()]
    # When a patch is asked for
    with pytest.raises(MotoMismatchError) as refused:
        _entry_points()[entry_point]()
    # Then it is refused, naming both versions and what to do, and moto is left as it was
    assert f"written for moto {PATCHED_FOR}; found 5.3.0" in str(refused.value)
    assert "update PATCHED_FOR" in str(refused.value)
    assert [dict(vars(cls)) for cls in _patched_classes()] == before


def test_the_patches_are_written_for_the_moto_the_project_pins() -> None:
    from infra.local.moto import PATCHED_FOR

    # Given the moto pinned in pyproject.toml and locked in uv.lock
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pinned = [d for d in pyproject["dependency-groups"]["dev"] if str(d).startswith("moto")]
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = [p["version"] for p in lock["package"] if p["name"] == "moto"]
    # Then the patches claim that version, and it is the one installed: raising the pin
    # fails here until each patch has been re-checked and PATCHED_FOR moved with it
    assert pinned == [f"moto[server]=={PATCHED_FOR}"]
    assert locked == [PATCHED_FOR]
    assert metadata.version("moto") == PATCHED_FOR


def test_a_method_moto_renamed_is_refused_before_anything_is_patched() -> None:
    # Given a moto without one of the methods a patch replaces (deleted in a fresh process)
    # When the patches are applied
    report = _in_child("renamed")
    # Then each refuses, naming the method, and patches nothing of what it would have
    speed, correctness = report["speed"], report["correctness"]
    assert "moto.dynamodbstreams.responses.DynamoDBStreamsHandler.get_records" in speed["error"]
    assert speed["queue_messages_untouched"]
    assert "moto.dynamodb.models.DynamoDBBackend.import_table" in correctness["error"]
    assert correctness["serialized"] == []


def test_moto_without_its_s3_post_handler_is_refused_before_dynamodb_is_patched() -> None:
    # Given a moto whose S3 no longer has the POST handler the upload check wraps
    # When the correctness patches are applied
    report = _in_child("renamed_s3")
    # Then they refuse, naming it, and neither S3 nor DynamoDB was patched
    assert "moto.s3.responses.S3Response._bucket_response_post" in report["error"]
    assert report["serialized"] == []


def test_the_s3_post_check_wraps_moto_once_however_many_threads_apply_it() -> None:
    # Given a fresh moto
    # When eight threads apply the correctness patches at once
    report = _in_child("s3_once")
    # Then moto's POST handler is wrapped exactly once, by the upload check
    assert report["marks"] == ["post-policy-checked"]
    assert report["wraps_moto_s_own"]


# --- one list of writes ------------------------------------------------------------------

# Backend methods whose names look like writes but change no item and no table's keys or
# indexes, each with why it is not in WRITES.
NOT_WRITES = {
    "update_table_streams": "called only by update_table, which holds the lock",
    "update_time_to_live": "a setting: moto never expires items",
    "update_continuous_backups": "a setting",
    "create_backup": "reads a table",
    "delete_backup": "a backup, not a table",
    "export_table": "reads a table",
    "put_resource_policy": "a policy",
    "delete_resource_policy": "a policy",
    "tag_resource": "tags",
    "untag_resource": "tags",
}
WRITE_VERBS = (
    *("put_", "update_", "delete_", "create_", "restore_", "import_", "execute_"),
    *("transact_write", "batch_write", "batch_execute"),
)


def test_one_list_of_writes_is_what_the_lock_and_the_query_cache_cover() -> None:
    from infra.local.moto import WRITES

    # Given a fresh moto, patched for correctness from eight threads at once, then with the
    # bench's query shortcuts entered and left
    report = _in_child("coverage")
    # Then every entry of the one list is a method of moto's class, PartiQL's three among them
    listed = sorted(WRITES)
    assert report["methods"] == listed
    assert {"execute_statement", "execute_transaction", "batch_execute_statement"} <= {
        entry.split(".")[1] for entry in WRITES
    }
    # and no write method of moto's backend is missing from it
    backend_writes = [name for name in report["backend_methods"] if name.startswith(WRITE_VERBS)]
    assert sorted(set(backend_writes) - set(NOT_WRITES)) == sorted(
        entry.split(".")[1] for entry in WRITES if entry.startswith("DynamoDBBackend.")
    )
    # and the lock wraps exactly those methods, each once (not once per thread)
    assert report["serialized"] == listed
    assert report["wrapped_once"]
    # and the query cache empties on exactly those, then leaves them as the lock had them
    assert report["emptying_cache"] == listed
    assert report["emptying_cache_after"] == []
    assert report["serialized_after"] == listed


# --- PartiQL writes against moto server ----------------------------------------------------


@pytest.fixture(scope="module")
def aws_url() -> Iterator[str]:
    from infra.local.moto import apply_correctness

    apply_correctness()  # as the local system does
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


CLAIM = 'UPDATE "{table}" SET claimed_by = ? WHERE pk = ? AND claimed_by = ?'
SEND: dict[str, Callable[[Any, str, list[dict[str, Any]]], Any]] = {
    "ExecuteStatement": lambda c, s, p: c.execute_statement(Statement=s, Parameters=p),
    "ExecuteTransaction": lambda c, s, p: c.execute_transaction(
        TransactStatements=[{"Statement": s, "Parameters": p}]
    ),
    "BatchExecuteStatement": lambda c, s, p: c.batch_execute_statement(
        Statements=[{"Statement": s, "Parameters": p}]
    ),
}


@pytest.mark.parametrize("api", sorted(SEND))
def test_two_concurrent_partiql_claims_of_one_item_let_exactly_one_take_effect(
    api: str, aws_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.dynamodb.parsing import partiql

    # Given an unclaimed item in a table with a stream
    session = boto3.session.Session(region_name=REGION)
    dynamodb = session.client("dynamodb", endpoint_url=aws_url)
    table = f"claims-{uuid.uuid4().hex[:8]}"
    created = dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "k"}, "claimed_by": {"S": "nobody"}})
    # and a moto that, once a statement has read the items and decided what to write, waits
    # (up to a second) for a second statement to have read them too: the interleaving in
    # which two unserialized statements both see the item unclaimed
    decide = partiql.query
    both_decided = threading.Barrier(2, timeout=1.0)

    def decide_then_wait(*args: Any, **kwargs: Any) -> Any:
        decided = decide(*args, **kwargs)
        # broken: the other statement could not read meanwhile (it waits for the lock)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_decided.wait()
        return decided

    monkeypatch.setattr(partiql, "query", decide_then_wait)
    clients = {who: session.client("dynamodb", endpoint_url=aws_url) for who in ("ann", "bob")}
    failures: list[BaseException] = []

    def claim(who: str) -> None:
        params = [{"S": who}, {"S": "k"}, {"S": "nobody"}]
        try:
            answer = SEND[api](clients[who], CLAIM.format(table=table), params)
            assert all("Error" not in r for r in answer.get("Responses", [])), answer
        except BaseException as error:
            failures.append(error)

    # When two clients claim it at the same time, each on the condition that it is unclaimed
    threads = [threading.Thread(target=claim, args=(who,)) for who in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures, failures
    # Then exactly one claim changed the item (one MODIFY on its stream), and it holds
    streams = session.client("dynamodbstreams", endpoint_url=aws_url)
    arn = created["TableDescription"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    claims = [
        r["dynamodb"]["NewImage"]["claimed_by"]["S"] for r in records if r["eventName"] == "MODIFY"
    ]
    assert len(claims) == 1, claims
    item = dynamodb.get_item(TableName=table, Key={"pk": {"S": "k"}})["Item"]
    assert item["claimed_by"]["S"] == claims[0] != "nobody"


# --- the child process -------------------------------------------------------------------


def _marked(patch: str) -> list[str]:
    """The methods of moto's DynamoDB classes that carry `patch`, read off the classes."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    from infra.local.moto._patching import patches_of

    return sorted(
        f"{owner.__name__}.{name}"
        for owner in (DynamoDBBackend, Table)
        for name, value in vars(owner).items()
        if patch in patches_of(value)
    )


def _coverage() -> dict[str, Any]:
    import inspect

    from moto.dynamodb.models import DynamoDBBackend

    from infra.local.moto import apply_correctness, correctness, faster_queries
    from infra.local.moto.correctness import SERIALIZED
    from infra.local.moto.queries import EMPTIES_CACHE
    from infra.local.moto.writes import write_methods

    originals = {(owner, name): getattr(owner, name) for owner, name in write_methods()}
    methods = sorted(
        f"{owner.__name__}.{name}"
        for (owner, name), f in originals.items()
        if inspect.isfunction(f)
    )
    backend_methods = sorted(n for n, v in vars(DynamoDBBackend).items() if inspect.isfunction(v))
    threads = [threading.Thread(target=apply_correctness) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    serialized = _marked(SERIALIZED)
    wrapped_once = all(
        getattr(owner, name).__wrapped__
        is (correctness.transact_write_items if name == "transact_write_items" else original)
        for (owner, name), original in originals.items()
    )
    with faster_queries():
        emptying_cache = _marked(EMPTIES_CACHE)
    return {
        "methods": methods,
        "backend_methods": backend_methods,
        "serialized": serialized,
        "wrapped_once": wrapped_once,
        "emptying_cache": emptying_cache,
        "emptying_cache_after": _marked(EMPTIES_CACHE),
        "serialized_after": _marked(SERIALIZED),
    }


def _renamed() -> dict[str, Any]:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    from moto.sqs.models import Queue

    from infra.local.moto import MotoMismatchError, apply_correctness, apply_server_speedups
    from infra.local.moto.correctness import SERIALIZED

    report: dict[str, Any] = {"speed": {"error": ""}, "correctness": {"error": ""}}
    messages = vars(Queue)["messages"]
    del DynamoDBStreamsHandler.get_records
    try:
        apply_server_speedups()
    except MotoMismatchError as error:
        report["speed"] = {
            "error": str(error),
            "queue_messages_untouched": vars(Queue)["messages"] is messages,
        }
    del DynamoDBBackend.import_table
    try:
        apply_correctness()
    except MotoMismatchError as error:
        report["correctness"] = {"error": str(error), "serialized": _marked(SERIALIZED)}
    return report


def _renamed_s3() -> dict[str, Any]:
    from moto.s3.responses import S3Response

    from infra.local.moto import MotoMismatchError, apply_correctness
    from infra.local.moto.correctness import SERIALIZED

    del S3Response._bucket_response_post
    try:
        apply_correctness()
    except MotoMismatchError as error:
        return {"error": str(error), "serialized": _marked(SERIALIZED)}
    return {"error": "", "serialized": _marked(SERIALIZED)}


def _s3_once() -> dict[str, Any]:
    from moto.s3.responses import S3Response

    from infra.local.moto import apply_correctness
    from infra.local.moto._patching import patches_of

    original = S3Response._bucket_response_post
    threads = [threading.Thread(target=apply_correctness) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    handler = S3Response._bucket_response_post
    return {
        "marks": sorted(patches_of(handler)),
        "wraps_moto_s_own": getattr(handler, "__wrapped__", None) is original,
    }


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]
    cases = {"coverage": _coverage, "renamed": _renamed, "renamed_s3": _renamed_s3}
    cases["s3_once"] = _s3_once
    json.dump(cases[sys.argv[1]](), sys.stdout)
