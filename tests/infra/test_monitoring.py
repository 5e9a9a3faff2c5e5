"""The operations dashboard and the alarms of infra/stack/monitoring.py, per stage: a
dashboard with every section, and the alarms of every function, table, index and queue
the topology declares, with their thresholds."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from catalog.core import business_metrics
from infra import topology
from infra.stack.monitoring import DEAD_LETTER_AGE_S, oldest_message_limit_s
from infra.stages import stage as stage_config
from tests.infra.conftest import watched_metric, watched_metrics

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

STAGES = ["dev", "prod"]


def dashboard_widgets(synth: Any) -> list[dict[str, Any]]:
    """The widgets of the stage's one dashboard, its body's tokens replaced by a marker."""
    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == f"catalog-{synth.stage}-operations"
    body = dashboard["Properties"]["DashboardBody"]
    text = "".join(p if isinstance(p, str) else "TOKEN" for p in body["Fn::Join"][1])
    widgets: list[dict[str, Any]] = json.loads(text)["widgets"]
    return widgets


def metric_names(widget: dict[str, Any]) -> set[str]:
    """The metric names a graph widget plots (a metric row is namespace, name, dims...)."""
    names = set()
    for row in widget.get("properties", {}).get("metrics", []):
        strings = [item for item in row if isinstance(item, str)]
        if (strings and strings[0] != "." and "/" in strings[0]) or strings[:1] == ["Catalog"]:
            names.add(strings[1])
    return names


def metric_of(alarm: dict[str, Any]) -> str:
    return str(watched_metric(alarm)["MetricName"])


def alarms_by_description(synth: Any) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for alarm in synth.of_type("AWS::CloudWatch::Alarm").values():
        description = alarm["Properties"]["AlarmDescription"]
        assert description not in found, f"two alarms say {description!r}"
        found[description] = alarm["Properties"]
    return found


@pytest.mark.parametrize("name", STAGES)
def test_each_stage_has_one_dashboard_with_every_section(
    synth_stage: Callable[[str], Any], name: str
) -> None:
    # Given the stage's template
    widgets = dashboard_widgets(synth_stage(name))
    # When its dashboard's headers and graphs are read
    headers = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    plotted = set().union(*(metric_names(w) for w in widgets))
    queries = [w["properties"]["query"] for w in widgets if w["type"] == "log"]
    # Then every section is there...
    for section in ("# API", "# Functions", "# DynamoDB", "# Queues and dead-letter queues"):
        assert section in headers, section
    assert "# Event delivery and business" in headers
    # ...the API's requests, errors and latency
    assert {"Count", "4XXError", "5XXError", "Latency"} <= plotted
    # ...each function's invocations, errors, duration, throttles and concurrency
    assert {"Invocations", "Errors", "Duration", "Throttles", "ConcurrentExecutions"} <= plotted
    for function in topology.FUNCTIONS:
        assert any(f"**[{function} function]" in h for h in headers), function
    # ...init durations from the REPORT lines, in every function's log group
    (init,) = [q for q in queries if "@initDuration" in q]
    assert init.count("SOURCE") == len(topology.FUNCTIONS)
    # ...tables and indexes: consumed capacity and throttles
    assert {"ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"} <= plotted
    assert {"ReadThrottleEvents", "WriteThrottleEvents"} <= plotted
    for table, spec in topology.TABLES.items():
        assert any(f"**[{table} table]" in h for h in headers), table
        for index in spec.indexes:
            assert any(f"{table} table, index {index.name}" in h for h in headers), index
    # ...queues and their dead letters
    assert {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"} <= plotted
    for queue in topology.QUEUES:
        assert any(f"{queue} queue" in h for h in headers), queue
    # ...and every business and delivery metric the functions emit
    for metrics in business_metrics.SECTIONS.values():
        assert set(metrics) <= plotted


@pytest.mark.parametrize("name", STAGES)
def test_the_library_alarms_notify_the_ops_topic_firing_and_clearing(
    synth_stage: Callable[[str], Any], name: str
) -> None:
    synth = synth_stage(name)
    (topic_id,) = [k for k in synth.of_type("AWS::SNS::Topic") if k.startswith("OpsTopic")]
    made = synth.stack.monitoring.facade.created_alarms()
    assert len(made) > 3 * len(topology.FUNCTIONS)
    for created in made:
        logical_id = synth.stack.resolve(created.alarm.node.default_child.logical_id)
        properties = synth.resources[logical_id]["Properties"]
        assert properties["AlarmActions"] == [{"Ref": topic_id}], logical_id
        assert properties["OKActions"] == [{"Ref": topic_id}], logical_id


def test_every_queue_alarms_on_its_oldest_message_and_its_dead_letters(dev: Any) -> None:
    alarms = alarms_by_description(dev)
    stage = stage_config("dev")
    consumed = {source.queue for source in topology.QUEUE_SOURCES}
    for name, spec in topology.QUEUES.items():
        dead = alarms[f"catalog dev: messages in the dead-letter queue of {name}"]
        assert metric_of(dead) == "ApproximateNumberOfMessagesVisible"
        assert (dead["Threshold"], dead["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert dead["EvaluationPeriods"] == 1
        old_dead = alarms[f"catalog dev: a dead letter of {name} 7 days old (14-day retention)"]
        assert old_dead["Threshold"] == DEAD_LETTER_AGE_S
        if name in consumed:
            limit = oldest_message_limit_s(stage, spec)
            oldest = alarms[f"catalog dev: oldest message of {name} over {limit} s old (stuck)"]
            assert oldest["Threshold"] == limit
        else:
            oldest = alarms[f"catalog dev: a message of {name} unhandled for 7 days"]
            assert alarms[f"catalog dev: unconsumed messages in {name}"]["Threshold"] == 0
        assert metric_of(oldest) == "ApproximateAgeOfOldestMessage"
        assert oldest["TreatMissingData"] == "notBreaching"


def test_the_oldest_message_limit_covers_the_retry_schedule() -> None:
    stage = stage_config("prod")
    deliveries = topology.QUEUES["webhook-deliveries"]
    # Webhook delivery reschedules its own messages: 7 waits of the schedule, then one
    # visibility timeout, before the 8th receive's failure dead-letters it; plus 15 minutes.
    schedule = [max(180, d) for d in stage.webhook_retry_delays_s[:7]]
    assert oldest_message_limit_s(stage, deliveries) == sum(schedule) + 180 + 900
    # Any other queue: a visibility timeout per receive, plus 15 minutes.
    events = topology.QUEUES["webhook-events"]
    assert oldest_message_limit_s(stage, events) == 5 * 180 + 900


def test_every_table_alarms_on_read_and_write_throttles_of_itself_and_each_index(
    dev: Any,
) -> None:
    alarms = alarms_by_description(dev)
    for table, spec in topology.TABLES.items():
        subjects = [{"TableName"}] + [{"TableName", "GlobalSecondaryIndexName"}] * len(spec.indexes)
        for kind, metric in (("reads", "ReadThrottleEvents"), ("writes", "WriteThrottleEvents")):
            alarm = alarms[f"catalog dev: {table} table or its indexes: {kind} throttled"]
            assert alarm["Threshold"] == 0
            assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
            (expression,) = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
            watched = watched_metrics(alarm)
            assert expression.startswith("SUM(") and expression.count("m") == len(watched)
            assert {m["MetricName"] for m in watched} == {metric}
            # the table itself and each of its indexes, by name
            assert sorted(
                ({d["Name"] for d in m["Dimensions"]} for m in watched), key=len
            ) == sorted(subjects, key=len), table
            named = {
                d["Value"]
                for m in watched
                for d in m["Dimensions"]
                if d["Name"] == "GlobalSecondaryIndexName"
            }
            assert named == {index.name for index in spec.indexes}, table


def test_function_and_api_alarms_keep_their_thresholds(dev: Any) -> None:
    alarms = alarms_by_description(dev)
    for name, spec in topology.FUNCTIONS.items():
        errors = alarms[f"catalog dev: {name} function errors"]
        assert (metric_of(errors), errors["Threshold"], errors["EvaluationPeriods"]) == (
            "Errors",
            0,
            1,
        )
        assert metric_of(alarms[f"catalog dev: {name} function throttled"]) == "Throttles"
        duration = alarms[
            f"catalog dev: {name} p99 duration over 80% of its timeout for 15 minutes"
        ]
        assert duration["Threshold"] == spec.timeout_s * 1000 * 0.8
        assert (duration["EvaluationPeriods"], duration["DatapointsToAlarm"]) == (3, 3)
    for stream in topology.STREAMS:
        lag = alarms[
            f"catalog dev: {stream.consumer} over 5 minutes behind its stream for 15 minutes"
        ]
        assert (metric_of(lag), lag["Threshold"]) == ("IteratorAge", 300_000)
        assert lag["TreatMissingData"] == "notBreaching"
    latency = alarms["catalog dev: API p99 latency over 2000 ms for 15 minutes"]
    stats = [m["MetricStat"]["Stat"] for m in latency.get("Metrics", []) if "MetricStat" in m]
    assert (stats or [latency.get("ExtendedStatistic")], latency["Threshold"]) == (["p99"], 2000)
    assert metric_of(latency) == "Latency"
    # The API's own stage (the library's default stage name is "prod", in every stage)
    faults = watched_metric(
        alarms["catalog dev: API answered 5XX to over 1% of requests in 5 minutes"]
    )
    assert faults["MetricName"] == "5XXError"
    dimensions = {d["Name"]: d["Value"] for d in faults["Dimensions"]}
    stage_ids = set(dev.of_type("AWS::ApiGateway::Stage"))
    assert dimensions["Stage"]["Ref"] in stage_ids
