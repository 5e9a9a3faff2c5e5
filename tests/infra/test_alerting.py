"""Alarms reach someone: every alarm of the stack notifies the stage's ops topic, firing and
clearing; the topic is encrypted with a key CloudWatch may use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from infra import topology
from infra.stages import stage as stage_config

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_every_alarm_notifies_the_ops_topic_when_it_fires_and_clears(
    synth_stage: Callable[[str], Any], name: str
) -> None:
    synth = synth_stage(name)
    (topic_id,) = [k for k in synth.of_type("AWS::SNS::Topic") if k.startswith("OpsTopic")]
    alarms = synth.of_type("AWS::CloudWatch::Alarm")
    # Each function has three (errors, throttles, duration); queues, the API and others more.
    assert len(alarms) >= 3 * len(topology.FUNCTIONS)
    for alarm_id, alarm in alarms.items():
        properties = alarm["Properties"]
        assert properties["AlarmActions"] == [{"Ref": topic_id}], alarm_id
        assert properties["OKActions"] == [{"Ref": topic_id}], alarm_id


def test_cloudwatch_may_publish_to_the_encrypted_topic(dev: Any) -> None:
    (topic,) = [t for k, t in dev.of_type("AWS::SNS::Topic").items() if k.startswith("OpsTopic")]
    key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = dev.resources[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    grants = [
        s
        for s in key["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    (grant,) = grants
    assert set(grant["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_the_alarms_the_operations_issue_asks_for_exist(dev: Any) -> None:
    descriptions = [
        a["Properties"]["AlarmDescription"] for a in dev.of_type("AWS::CloudWatch::Alarm").values()
    ]

    def some(text: str) -> int:
        return sum(text in d for d in descriptions)

    assert some("API answered 5XX to over 1% of requests") == 1
    assert some("API p99 latency over 2000 ms") == 1
    assert some("function errors") == len(topology.FUNCTIONS)
    assert some("function throttled") == len(topology.FUNCTIONS)
    assert some("p99 duration over 80% of its timeout") == len(topology.FUNCTIONS)
    assert some("behind its stream") == len(topology.STREAMS)
    assert some("WAF blocked") == 1
    assert some("a data migration run failed") == 1
    assert some("oldest message of") + some("unhandled for 7 days") == len(topology.QUEUES)
    assert some("messages in the dead-letter queue of") == len(topology.QUEUES)
    # one per table and kind, over the table and each of its indexes
    assert some("reads throttled") == some("writes throttled") == len(topology.TABLES)


def test_a_stage_with_an_ops_email_subscribes_it() -> None:
    from aws_cdk import App, Stack, aws_cloudwatch as cloudwatch
    from aws_cdk.assertions import Template

    from infra.stack.alerting import Alerting

    stack = Stack(App(), "AlertingTest")
    cloudwatch.Alarm(
        stack,
        "Some",
        metric=cloudwatch.Metric(namespace="Test", metric_name="Errors"),
        threshold=1,
        evaluation_periods=1,
    )
    alerting = Alerting(
        stack, "Alerting", stage=replace(stage_config("dev"), ops_email="ops@example.com")
    )
    alerting.route(stack)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
    assert len(alerting.routed) == 1
