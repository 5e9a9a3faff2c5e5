"""moto server's DynamoDB answers with their items written straight to JSON
(infra/local/moto/speed.py `written_directly`) are the JSON moto's own serializer writes.

Every answer moto gives while the test runs is written both ways and compared: items of
every attribute type (binary and sets included, nested maps and lists, empty ones), through
every operation whose items are written directly, with pages (LastEvaluatedKey) and the
consumed capacity the rest of the answer carries.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from moto.core.responses import ActionResult
from moto.dynamodb.responses import DynamoResult
from moto.server import ThreadedMotoServer

from infra.local.moto.speed import written_directly

TABLE = f"answers-{uuid.uuid4().hex[:8]}"
# A region no other test's system uses: moto keeps one state per process, which this
# module's server shares with the local system a worker may run (never `mock_aws`: it
# resets every backend of the process, that system's tables and queues included).
REGION = "eu-west-3"

numbers = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(lambda d: str(d)),
)
scalars = st.one_of(
    st.builds(lambda v: {"S": v}, st.text(min_size=1, max_size=20)),
    st.builds(lambda v: {"N": v}, numbers),
    st.builds(lambda v: {"B": v}, st.binary(min_size=1, max_size=20)),
    st.builds(lambda v: {"BOOL": v}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda v: {"SS": sorted(v)}, st.sets(st.text(min_size=1, max_size=8), min_size=1)),
    st.builds(
        lambda v: {"NS": sorted(str(n) for n in v)}, st.sets(st.integers(-999, 999), min_size=1)
    ),
    st.builds(lambda v: {"BS": sorted(v)}, st.sets(st.binary(min_size=1, max_size=8), min_size=1)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.builds(lambda v: {"L": v}, st.lists(inner, max_size=3)),
        st.builds(lambda v: {"M": v}, st.dictionaries(st.text(min_size=1, max_size=5), inner)),
    ),
    max_leaves=8,
)
attributes = st.dictionaries(
    st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=6).filter(
        lambda name: name not in ("pk", "sk")
    ),
    values,
    max_size=6,
)


@pytest.fixture(scope="module")
def answers() -> Iterator[tuple[Any, list[tuple[str, Any, Any]]]]:
    """A DynamoDB client on in-process moto, and each answer moto gave as (operation, its
    serializer's JSON, the direct JSON or None)."""
    compared: list[tuple[str, Any, Any]] = []
    serialize = ActionResult.execute_result  # moto's own, whatever patches this process has

    def both(self: Any, context: Any) -> Any:
        answer = serialize(self, context)
        direct = written_directly(serialize, ActionResult, self.result, context)
        compared.append(
            (context.operation_model.name, json.loads(answer[2]), direct and json.loads(direct[2]))
        )
        assert direct is None or direct[:2] == answer[:2]
        return answer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DynamoResult, "execute_result", both)
        client = boto3.client("dynamodb", region_name=REGION, endpoint_url=f"http://{host}:{port}")
        client.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client, compared
        client.delete_table(TableName=TABLE)
    server.stop()


counter = iter(range(10**9))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=st.lists(attributes, min_size=1, max_size=5), replacement=attributes)
def test_items_written_directly_are_the_json_moto_writes(
    answers: tuple[Any, list[tuple[str, Any, Any]]], items: list[dict[str, Any]], replacement: Any
) -> None:
    client, compared = answers
    compared.clear()
    pk = {"S": f"p{next(counter)}"}
    keys = [{"pk": pk, "sk": {"S": f"s{n}"}} for n in range(len(items))]
    # Given items of every attribute type, each written, then written over (the old item back)
    for key, item in zip(keys, items, strict=True):
        client.put_item(TableName=TABLE, Item={**item, **key})
        client.put_item(TableName=TABLE, Item={**item, **key}, ReturnValues="ALL_OLD")
    # When they are read every way, a page at a time, and changed and deleted
    capacity = {"ReturnConsumedCapacity": "TOTAL"}
    client.get_item(TableName=TABLE, Key=keys[0], **capacity)
    client.get_item(TableName=TABLE, Key={"pk": pk, "sk": {"S": "absent"}})
    query = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": pk}}
    page = client.query(TableName=TABLE, Limit=2, **query, **capacity)
    while "LastEvaluatedKey" in page:
        page = client.query(
            TableName=TABLE, Limit=2, ExclusiveStartKey=page["LastEvaluatedKey"], **query
        )
    client.scan(TableName=TABLE, Limit=3, **capacity)
    client.batch_get_item(RequestItems={TABLE: {"Keys": keys}}, **capacity)
    if replacement:
        names = {f"#n{i}": name for i, name in enumerate(replacement)}
        sets = ", ".join(f"#n{i} = :v{i}" for i in range(len(replacement)))
        client.update_item(
            TableName=TABLE,
            Key=keys[0],
            UpdateExpression=f"SET {sets}",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":v{i}": v for i, v in enumerate(replacement.values())},
            ReturnValues="ALL_NEW",
        )
    client.delete_item(TableName=TABLE, Key=keys[-1], ReturnValues="ALL_OLD")
    # Then every answer with items was written directly, as moto's serializer writes it
    direct = {name for name, _, written in compared if written is not None}
    assert {"GetItem", "Query", "Scan", "BatchGetItem", "PutItem", "DeleteItem"} <= direct
    if replacement:
        assert "UpdateItem" in direct
    for name, moto_json, written in compared:
        if written is not None:
            assert written == moto_json, name


def test_moto_s_in_process_mock_is_refused_beside_the_local_system(local_system: Any) -> None:
    # Given the worker's local system, on the moto state of this process
    from moto import mock_aws

    # When a test starts moto's in-process mock, which resets that state
    # Then it is refused before it resets anything
    with pytest.raises(RuntimeError, match="reset the moto state"):
        mock_aws().start()
    # And the local system's tables are still there
    tables = boto3.client("dynamodb", endpoint_url=local_system.aws_url).list_tables()
    assert local_system.names["tables"]["products"] in tables["TableNames"]
