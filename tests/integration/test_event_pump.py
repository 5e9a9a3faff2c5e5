"""The local event pump against moto server: Lambda's SQS and DynamoDB-stream semantics.

Each test provisions its own queues (and table) under unique names through the same
provisioning code the local runner uses, and runs its own pump over them with fake
consumers that record what they were given.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest
from moto.server import ThreadedMotoServer

from infra import topology
from infra.local.provision import provision_events, table_definition
from infra.local.pump import EventPump, failed_items

REGION = "us-east-1"
STAGE = "local"  # its short visibility timeout (2 s) keeps redelivery quick


@pytest.fixture(scope="module")
def aws_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def client(aws_url: str, service: str) -> Any:
    return boto3.session.Session(region_name=REGION).client(service, endpoint_url=aws_url)


class Recorder:
    """A fake consumer: records each event, answers what `behaviour` returns (or raises)."""

    def __init__(self, behaviour: Callable[[dict[str, Any]], Any] = lambda event: None) -> None:
        self.behaviour = behaviour
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> Any:
        with self.lock:
            self.events.append(json.loads(json.dumps(event)))  # the JSON Lambda would send
        return self.behaviour(event)

    def bodies(self) -> list[str]:
        return [r["body"] for e in self.events for r in e["Records"]]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def queue_pump(
    aws_url: str,
    consumer: Recorder,
    *,
    max_receives: int = 3,
    batch_size: int = 10,
) -> tuple[EventPump, str, str]:
    """A queue with its DLQ, a pump delivering it to `consumer`; returns pump, URL, DLQ URL."""
    queue = topology.Queue(unique("work"), visibility_timeout_s=30, max_receives=max_receives)
    names = provision_events(
        STAGE, aws_url, REGION, queues=[queue], topics=[], subscriptions=[], buckets=[]
    )
    source = topology.QueueSource(queue.name, consumer="consumer", batch_size=batch_size)
    pump = EventPump(
        {"consumer": consumer},
        names,
        endpoint_url=aws_url,
        region=REGION,
        queue_sources=[source],
        streams=[],
        poll_interval_s=0.05,
    )
    return pump, names["queues"][queue.name], names["queues"][queue.dlq_name]


def send(aws_url: str, url: str, bodies: list[str]) -> None:
    sqs = client(aws_url, "sqs")
    for start in range(0, len(bodies), 10):
        chunk = bodies[start : start + 10]
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {
                    "Id": str(i),
                    "MessageBody": body,
                    "MessageAttributes": {"type": {"DataType": "String", "StringValue": "t"}},
                }
                for i, body in enumerate(chunk)
            ],
        )


def dlq_bodies(aws_url: str, url: str) -> list[str]:
    got = client(aws_url, "sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [m["Body"] for m in got.get("Messages", [])]


def fail_bodies(*bad: str) -> Callable[[dict[str, Any]], Any]:
    def behaviour(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] in bad
            ]
        }

    return behaviour


# --- partial batch responses (pure) ---------------------------------------------------------


def test_no_or_empty_failures_mean_the_whole_batch_succeeded() -> None:
    assert failed_items(None, ["a", "b"]) == set()
    assert failed_items({"batchItemFailures": []}, ["a"]) == set()


def test_reported_identifiers_are_the_failures() -> None:
    assert failed_items({"batchItemFailures": [{"itemIdentifier": "b"}]}, ["a", "b"]) == {"b"}


@pytest.mark.parametrize("item", [{"itemIdentifier": ""}, {"itemIdentifier": "zz"}, {}, "b"])
def test_an_unusable_identifier_fails_the_whole_batch(item: Any) -> None:
    assert failed_items({"batchItemFailures": [item]}, ["a", "b"]) is None


# --- SQS sources ----------------------------------------------------------------------------


def test_sqs_event_has_lambdas_shape(aws_url: str) -> None:
    # Given a queue consumer
    consumer = Recorder()
    pump, url, _ = queue_pump(aws_url, consumer)
    with_pump = pump.start()
    try:
        # When a message with an attribute arrives
        send(aws_url, url, ["hello"])
        with_pump.drain(20)
    finally:
        pump.stop()
    # Then the consumer got one SQS event in the shape Lambda builds
    (event,) = consumer.events
    (record,) = event["Records"]
    assert record["body"] == "hello"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].startswith("arn:aws:sqs:us-east-1:")
    assert record["awsRegion"] == REGION
    assert record["messageId"] and record["receiptHandle"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["type"] == {
        "stringValue": "t",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }


def test_batches_never_exceed_the_declared_size(aws_url: str) -> None:
    consumer = Recorder()
    pump, url, _ = queue_pump(aws_url, consumer, batch_size=4)
    send(aws_url, url, [f"m{i}" for i in range(13)])
    pump.start()
    try:
        pump.drain(20)
    finally:
        pump.stop()
    assert sorted(consumer.bodies()) == sorted(f"m{i}" for i in range(13))
    assert max(len(e["Records"]) for e in consumer.events) <= 4
    assert len(consumer.events) >= 4  # 13 messages cannot fit fewer batches of 4


def test_a_poison_message_does_not_block_its_batch(aws_url: str) -> None:
    # Given a consumer that always reports one message of its batch as failed
    consumer = Recorder(fail_bodies("poison"))
    pump, url, dlq = queue_pump(aws_url, consumer, max_receives=3)
    send(aws_url, url, ["a", "b", "poison", "c", "d"])
    # When the pump delivers them
    pump.start()
    try:
        pump.drain(30)
    finally:
        pump.stop()
    bodies = consumer.bodies()
    # Then the good messages were delivered once each (not replayed with the poison)
    for good in "abcd":
        assert bodies.count(good) == 1, bodies
    # And the poison was received max_receives times, then moved to the DLQ
    assert bodies.count("poison") == 3
    assert dlq_bodies(aws_url, dlq) == ["poison"]
    receive_counts = [
        r["attributes"]["ApproximateReceiveCount"]
        for e in consumer.events
        for r in e["Records"]
        if r["body"] == "poison"
    ]
    assert receive_counts == ["1", "2", "3"]


def test_a_consumer_that_raises_gets_the_whole_batch_again(aws_url: str) -> None:
    # Given a consumer that fails its first invocation
    calls = {"n": 0}

    def flaky(event: dict[str, Any]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("downstream unavailable")

    consumer = Recorder(flaky)
    pump, url, dlq = queue_pump(aws_url, consumer)
    send(aws_url, url, ["x", "y"])
    pump.start()
    try:
        pump.drain(30)
    finally:
        pump.stop()
    # Then both messages came back (after the visibility timeout) and nothing is in the DLQ
    assert sorted(consumer.bodies()) == ["x", "x", "y", "y"]
    assert dlq_bodies(aws_url, dlq) == []
    assert pump.stats()[pump.workers[0].name].failed_invocations == 1


def test_an_unknown_item_identifier_fails_the_batch(aws_url: str) -> None:
    answers = iter([{"batchItemFailures": [{"itemIdentifier": "not-a-message"}]}])
    consumer = Recorder(lambda event: next(answers, None))
    pump, url, _ = queue_pump(aws_url, consumer)
    send(aws_url, url, ["only"])
    pump.start()
    try:
        pump.drain(30)
    finally:
        pump.stop()
    assert consumer.bodies() == ["only", "only"]


def test_drain_times_out_while_work_remains(aws_url: str) -> None:
    # A consumer that always fails keeps its message in flight until the redrive
    consumer = Recorder(lambda event: (_ for _ in ()).throw(RuntimeError("down")))
    pump, url, _ = queue_pump(aws_url, consumer, max_receives=50)
    send(aws_url, url, ["stuck"])
    pump.start()
    try:
        with pytest.raises(TimeoutError):
            pump.drain(1.5)
    finally:
        pump.stop()


# --- topics and subscriptions ---------------------------------------------------------------


def test_subscriptions_filter_on_attributes_and_deliver_raw(aws_url: str) -> None:
    # Given a topic with two queues subscribed, one filtered on the `type` attribute
    topic = topology.Topic(unique("changes"))
    everything, only_published = topology.Queue(unique("all")), topology.Queue(unique("pub"))
    names = provision_events(
        STAGE,
        aws_url,
        REGION,
        queues=[everything, only_published],
        topics=[topic],
        subscriptions=[
            topology.Subscription(topic.name, everything.name),
            topology.Subscription(
                topic.name, only_published.name, filter_policy={"type": ["product.published"]}
            ),
        ],
        buckets=[],
    )
    sns = client(aws_url, "sns")
    # When two messages are published
    for kind in ("product.updated", "product.published"):
        sns.publish(
            TopicArn=names["topics"][topic.name],
            Message=json.dumps({"type": kind}),
            MessageAttributes={"type": {"DataType": "String", "StringValue": kind}},
        )
    sqs = client(aws_url, "sqs")

    def received(queue: str) -> list[Any]:
        got = sqs.receive_message(
            QueueUrl=names["queues"][queue], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]

    # Then the bodies arrive raw (no SNS envelope), filtered where a policy says so
    assert sorted(m["type"] for m in received(everything.name)) == [
        "product.published",
        "product.updated",
    ]
    assert received(only_published.name) == [{"type": "product.published"}]


def test_queues_redrive_to_their_dlq_after_max_receives(aws_url: str) -> None:
    queue = topology.Queue(unique("redrive"), max_receives=4)
    names = provision_events(
        STAGE, aws_url, REGION, queues=[queue], topics=[], subscriptions=[], buckets=[]
    )
    attributes = client(aws_url, "sqs").get_queue_attributes(
        QueueUrl=names["queues"][queue.name], AttributeNames=["All"]
    )["Attributes"]
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": names["queue_arns"][queue.dlq_name],
        "maxReceiveCount": 4,
    }
    assert attributes["VisibilityTimeout"] == "2"  # the local stage's setting


def test_bucket_notifications_reach_their_queue(aws_url: str) -> None:
    queue = topology.Queue(unique("uploads"))
    bucket = topology.Bucket(
        unique("media"),
        notifications=(topology.BucketNotification("uploads/", queue.name),),
        expire_prefixes={"uploads/": 1},
    )
    names = provision_events(
        STAGE, aws_url, REGION, queues=[queue], topics=[], subscriptions=[], buckets=[bucket]
    )
    s3, sqs = client(aws_url, "s3"), client(aws_url, "sqs")
    s3.put_object(Bucket=names["buckets"][bucket.name], Key="other/x.txt", Body=b"no")
    s3.put_object(Bucket=names["buckets"][bucket.name], Key="uploads/a.jpg", Body=b"yes")
    got = sqs.receive_message(QueueUrl=names["queues"][queue.name], MaxNumberOfMessages=10)
    # Keys arrive URL-encoded (moto encodes even the slash, S3 does not): unquote_plus.
    keys = [
        unquote_plus(record["s3"]["object"]["key"])
        for message in got.get("Messages", [])
        for record in json.loads(message["Body"]).get("Records", [])
    ]
    assert keys == ["uploads/a.jpg"]


# --- DynamoDB streams ------------------------------------------------------------------------


def stream_pump(
    aws_url: str, consumer: Recorder, *, batch_size: int = 100, max_retries: int = 2
) -> tuple[EventPump, str, str]:
    """A streamed table and its on-failure queue; returns pump, table name, queue URL."""
    table = topology.Table(unique("items"), partition_key="pk", stream="NEW_AND_OLD_IMAGES")
    client(aws_url, "dynamodb").create_table(**table_definition(table, table.name))
    failures = topology.Queue(unique("stream-failures"))
    names = provision_events(
        STAGE, aws_url, REGION, queues=[failures], topics=[], subscriptions=[], buckets=[]
    )
    names["tables"] = {table.name: table.name}
    source = topology.StreamSource(
        table.name,
        consumer="consumer",
        batch_size=batch_size,
        max_retries=max_retries,
        on_failure=failures.name,
    )
    pump = EventPump(
        {"consumer": consumer},
        names,
        endpoint_url=aws_url,
        region=REGION,
        queue_sources=[],
        streams=[source],
        poll_interval_s=0.05,
        retry_pause_s=0.01,
    )
    return pump, table.name, names["queues"][failures.name]


def keys_of(event: dict[str, Any]) -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]


def test_stream_records_have_lambdas_shape_and_order(aws_url: str) -> None:
    consumer = Recorder()
    pump, table, _ = stream_pump(aws_url, consumer)
    dynamodb = client(aws_url, "dynamodb")
    # Given an insert, an update and a delete of one item
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "p1"}, "price": {"N": "10"}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "p1"}, "price": {"N": "12"}})
    dynamodb.delete_item(TableName=table, Key={"pk": {"S": "p1"}})
    pump.start()
    try:
        pump.drain(20)
    finally:
        pump.stop()
    records = [r for e in consumer.events for r in e["Records"]]
    # Then they arrive in order, in the shape Lambda sends
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = records
    assert insert["eventSource"] == "aws:dynamodb"
    assert insert["eventSourceARN"].startswith(f"arn:aws:dynamodb:{REGION}:")
    assert f"table/{table}/stream/" in insert["eventSourceARN"]
    assert insert["dynamodb"]["NewImage"] == {"pk": {"S": "p1"}, "price": {"N": "10"}}
    assert modify["dynamodb"]["OldImage"]["price"] == {"N": "10"}
    assert modify["dynamodb"]["NewImage"]["price"] == {"N": "12"}
    assert remove["dynamodb"]["OldImage"]["price"] == {"N": "12"}
    assert isinstance(insert["dynamodb"]["ApproximateCreationDateTime"], int | float)
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence == sorted(sequence)


def test_a_poison_record_is_bisected_out_retried_and_described_on_failure(aws_url: str) -> None:
    # Given a consumer that raises whenever its batch holds the poison record
    def behaviour(event: dict[str, Any]) -> None:
        if "poison" in keys_of(event):
            raise ValueError("cannot handle poison")

    consumer = Recorder(behaviour)
    pump, table, failures = stream_pump(aws_url, consumer, max_retries=2)
    dynamodb = client(aws_url, "dynamodb")
    keys = [f"k{i}" for i in range(7)]
    keys.insert(3, "poison")
    for key in keys:
        dynamodb.put_item(TableName=table, Item={"pk": {"S": key}})
    # When the pump delivers the stream
    pump.start()
    try:
        pump.drain(30)
    finally:
        pump.stop()
    # Then every good record reached a successful invocation
    succeeded = [k for e in consumer.events if "poison" not in keys_of(e) for k in keys_of(e)]
    assert sorted(set(succeeded)) == sorted(k for k in keys if k != "poison")
    # And the poison, alone after bisecting, was tried 1 + max_retries times
    alone = [e for e in consumer.events if keys_of(e) == ["poison"]]
    assert len(alone) == 3
    # And its batch is described on the on-failure queue, as Lambda describes it
    got = client(aws_url, "sqs").receive_message(QueueUrl=failures, MaxNumberOfMessages=10)
    (message,) = got["Messages"]
    description = json.loads(message["Body"])
    info = description["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert description["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert description["requestContext"]["approximateInvokeCount"] == 3


def test_a_stream_consumer_may_report_a_checkpoint(aws_url: str) -> None:
    # Given a consumer that fails the third record once (reporting its sequence number)
    failed_once: set[str] = set()

    def behaviour(event: dict[str, Any]) -> dict[str, Any]:
        for record in event["Records"]:
            key = record["dynamodb"]["Keys"]["pk"]["S"]
            if key == "c" and key not in failed_once:
                failed_once.add(key)
                return {
                    "batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]
                }
        return {"batchItemFailures": []}

    consumer = Recorder(behaviour)
    pump, table, failures = stream_pump(aws_url, consumer)
    dynamodb = client(aws_url, "dynamodb")
    for key in "abcde":
        dynamodb.put_item(TableName=table, Item={"pk": {"S": key}})
    pump.start()
    try:
        pump.drain(30)
    finally:
        pump.stop()
    # Then the records before the checkpoint are not sent again; the rest are
    delivered = [k for e in consumer.events for k in keys_of(e)]
    assert delivered.count("a") == 1 and delivered.count("b") == 1
    assert {"c", "d", "e"} <= set(delivered[2:])
    assert delivered.count("c") == 2
    assert client(aws_url, "sqs").receive_message(QueueUrl=failures).get("Messages") is None


def test_records_after_a_failed_transaction_are_still_delivered(aws_url: str) -> None:
    # Given a pump already reading the stream
    consumer = Recorder()
    pump, table, _ = stream_pump(aws_url, consumer)
    dynamodb = client(aws_url, "dynamodb")
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "before"}})
    pump.start()
    try:
        pump.drain(20)
        # When a transaction fails on the table (moto then swaps the table object)
        with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table,
                            "Item": {"pk": {"S": "before"}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                ]
            )
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "after"}})
        pump.drain(20)
    finally:
        pump.stop()
    # Then the later write still reaches the consumer, and nothing twice
    delivered = [k for e in consumer.events for k in keys_of(e)]
    assert delivered == ["before", "after"]
