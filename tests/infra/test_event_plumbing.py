"""The stack builds the topology's event plumbing as the local runner provisions it.

The generic constructs are checked on a sample topology (every kind of plumbing, consumed
by the existing `meta` function), so they are covered whatever the real topology declares
at the moment; the real topology's event sources are checked in test_parity.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from infra import topology
from tests.infra.conftest import Synth, synthesize, watched_metrics
from tests.infra.test_parity import assert_event_sources_match_the_local_pump

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

WORK = topology.Queue("sample-work", visibility_timeout_s=60, max_receives=7)
UPLOADS = topology.Queue("sample-uploads", visibility_timeout_s=90)
FAILURES = topology.Queue("sample-failures", visibility_timeout_s=30)
QUEUES = {q.name: q for q in (WORK, UPLOADS, FAILURES)}
TOPIC = topology.Topic("sample-changes")
FILTER = {"type": ["product.published", "product.price_changed"]}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    meta = topology.FUNCTIONS["meta"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(topology, "QUEUES", QUEUES)
        patch.setattr(topology, "TOPICS", {TOPIC.name: TOPIC})
        patch.setattr(
            topology,
            "SUBSCRIPTIONS",
            (
                topology.Subscription(TOPIC.name, WORK.name, filter_policy=FILTER),
                topology.Subscription(TOPIC.name, UPLOADS.name),
            ),
        )
        patch.setattr(
            topology,
            "BUCKETS",
            {
                "sample-media": topology.Bucket(
                    "sample-media",
                    notifications=(topology.BucketNotification("uploads/", UPLOADS.name),),
                    expire_prefixes={"uploads/": 2},
                )
            },
        )
        patch.setattr(
            topology,
            "QUEUE_SOURCES",
            (
                topology.QueueSource(WORK.name, "meta", batch_size=5),
                topology.QueueSource(UPLOADS.name, "users", batch_size=1),
            ),
        )
        patch.setattr(
            topology,
            "STREAMS",
            (
                topology.StreamSource(
                    "products", "meta", batch_size=50, max_retries=4, on_failure=FAILURES.name
                ),
            ),
        )
        patch.setattr(
            topology,
            "FUNCTIONS",
            {
                # the real functions, without their own plumbing (replaced by the sample's)
                **{
                    name: dataclasses.replace(f, topics=(), queues=(), buckets={})
                    for name, f in topology.FUNCTIONS.items()
                },
                "meta": dataclasses.replace(
                    meta,
                    topics=(TOPIC.name,),
                    queues=(WORK.name,),
                    buckets={"sample-media": "read"},
                ),
            },
        )
        topology.validate()
        yield synthesize("dev", tmp_path_factory.mktemp("cdk-plumbing"))


def queues_by_visibility(synth: Synth) -> dict[int, dict[str, Any]]:
    return {
        q["Properties"].get("VisibilityTimeout", -1): q
        for q in synth.of_type("AWS::SQS::Queue").values()
    }


def test_the_sample_passes_cdk_nag(sample: Synth) -> None:
    assert sample.nag_error is None, sample.nag_error


def test_each_queue_has_an_encrypted_dlq_with_the_declared_redrive(sample: Synth) -> None:
    queues = sample.of_type("AWS::SQS::Queue")
    assert len(queues) == 2 * len(QUEUES)
    work = queues_by_visibility(sample)[60]["Properties"]
    dlq_id = work["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert work["RedrivePolicy"]["maxReceiveCount"] == 7
    assert work["MessageRetentionPeriod"] == 14 * 86400
    assert queues[dlq_id]["Properties"]["MessageRetentionPeriod"] == 14 * 86400
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True


def test_queues_accept_tls_only(sample: Synth) -> None:
    policies = sample.of_type("AWS::SQS::QueuePolicy").values()
    denied = [
        s
        for p in policies
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denied) == 2 * len(QUEUES)


def test_every_dlq_and_the_unconsumed_queue_have_an_alarm(sample: Synth) -> None:
    alarms = sample.of_type("AWS::CloudWatch::Alarm").values()
    metrics = [m for a in alarms for m in watched_metrics(a["Properties"])]
    depths = {
        json.dumps(m["Dimensions"])
        for m in metrics
        if m["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    # one per DLQ, plus the stream's on-failure queue that nothing consumes
    assert len(depths) == len(QUEUES) + 1
    # and every queue of the (sample) topology alarms on the age of its oldest message
    ages = {
        json.dumps(m["Dimensions"])
        for m in metrics
        if m["MetricName"] == "ApproximateAgeOfOldestMessage"
    }
    assert len(ages) == 2 * len(QUEUES)  # each queue and its dead-letter queue


def test_sqs_sources_report_batch_item_failures_with_the_declared_batch(sample: Synth) -> None:
    mappings = [
        m["Properties"]
        for m in sample.of_type("AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" not in m["Properties"]
    ]
    assert sorted(m["BatchSize"] for m in mappings) == [1, 5]
    for mapping in mappings:
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_stream_source_bisects_retries_and_has_an_on_failure_queue(sample: Synth) -> None:
    (stream,) = [
        m["Properties"]
        for m in sample.of_type("AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" in m["Properties"]
    ]
    assert stream["StartingPosition"] == "TRIM_HORIZON"
    assert stream["BatchSize"] == 50
    assert stream["BisectBatchOnFunctionError"] is True
    assert stream["MaximumRetryAttempts"] == 4
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    target = stream["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert sample.resources[target]["Type"] == "AWS::SQS::Queue"


def test_topics_are_encrypted_tls_only_and_subscribed_raw_with_filters(sample: Synth) -> None:
    (topic,) = [  # the sample topology's topic (the other is the stage's ops topic)
        t for k, t in sample.of_type("AWS::SNS::Topic").items() if not k.startswith("OpsTopic")
    ]
    assert topic["Properties"]["KmsMasterKeyId"]
    policies = sample.of_type("AWS::SNS::TopicPolicy").values()
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for p in policies
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    )
    subscriptions = [s["Properties"] for s in sample.of_type("AWS::SNS::Subscription").values()]
    assert len(subscriptions) == 2
    assert all(s["Protocol"] == "sqs" and s["RawMessageDelivery"] is True for s in subscriptions)
    assert [s["FilterPolicy"] for s in subscriptions if "FilterPolicy" in s] == [FILTER]


def test_the_bucket_notifies_its_queue_without_a_custom_resource(sample: Synth) -> None:
    (bucket,) = sample.of_type("AWS::S3::Bucket").values()
    props = bucket["Properties"]
    (configuration,) = props["NotificationConfiguration"]["QueueConfigurations"]
    assert configuration["Event"] == "s3:ObjectCreated:*"
    assert configuration["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "uploads/"}]
    assert props["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    assert props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 2
    # Only the topology's functions (and the deploy's migration runner): no
    # notification-handler Lambda function
    functions = set(sample.of_type("AWS::Lambda::Function")) - sample.deploy_runner_functions()
    assert len(functions) == len(topology.FUNCTIONS)
    # And S3 may send to the queue (granted before the bucket is created)
    assert any(
        s.get("Principal") == {"Service": "s3.amazonaws.com"}
        for p in sample.of_type("AWS::SQS::QueuePolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    )
    assert bucket.get("DependsOn")


def test_the_function_gets_its_plumbing_in_env_and_iam(sample: Synth) -> None:
    meta = sample.function("meta")["Properties"]["Environment"]["Variables"]
    assert {"TOPIC_SAMPLE_CHANGES", "QUEUE_SAMPLE_WORK", "BUCKET_SAMPLE_MEDIA"} <= set(meta)
    role_id = sample.function("meta")["Properties"]["Role"]["Fn::GetAtt"][0]
    granted = {
        action
        for p in sample.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert {"sns:Publish", "sqs:SendMessage", "sqs:ChangeMessageVisibility", "s3:GetObject"} <= (
        granted
    )
    assert "s3:PutObject" not in granted  # read access only
    assert "dynamodb:GetRecords" in granted  # the stream source's own grant


def test_the_sample_mappings_are_the_local_pumps_sources(sample: Synth) -> None:
    assert_event_sources_match_the_local_pump(sample)
