"""The cloud and the local runner agree: routes, event sources, and what is provisioned.

The deployed API and the local gateway serve exactly the same (method, path, function);
the template's tables, queues, topics, buckets, event source mappings and function
environments equal what the local runner provisions in moto server and plays locally.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra import topology
from infra.local.gateway import route_table
from infra.local.pump import EventPump, QueueWorker, StreamWorker
from infra.stages import stage as stage_config
from tests.infra.local_resources import (
    REGION,
    LocalResources,
    app_client_description,
    canonical_json,
    key_description,
    moto_server,
    pump_settings,
    user_pool_description,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def test_api_gateway_methods_equal_the_local_route_table(dev: Any) -> None:
    # Given every AWS::ApiGateway::Method, with its full path and integrated function
    deployed = {
        (method, path, dev.integrated_function(resource))
        for (method, path), resource in dev.methods_by_route().items()
    }
    # Then they are exactly the routes (and ANY fallbacks) the local gateway serves
    local = {(r.method, r.path, r.function) for r in route_table()}
    assert deployed == local


def test_every_topology_route_is_deployed(dev: Any) -> None:
    # A narrower restatement that names the topology directly, for clearer failures.
    methods = dev.methods_by_route()
    missing = [(r.method, r.path) for r in topology.ROUTES if (r.method, r.path) not in methods]
    assert missing == []


def test_event_sources_match_the_local_pump(dev: Any) -> None:
    assert_event_sources_match_the_local_pump(dev)


def assert_event_sources_match_the_local_pump(dev: Any) -> None:
    """The synthesized mappings are the sources the local event pump builds from the topology."""
    # Given every event source mapping, as (kind, source, consumer) in topology names
    names = {logical: name for name, logical in dev.function_ids().items()}

    def logical_ids(constructs: dict[str, Any]) -> dict[str, str]:
        return {
            dev.stack.resolve(c.node.default_child.logical_id): n for n, c in constructs.items()
        }

    tables, queues = logical_ids(dev.stack.data.tables), logical_ids(dev.stack.events.queues)
    deployed = set()
    for mapping in dev.of_type("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        consumer = names[props["FunctionName"]["Ref"]]
        source = props["EventSourceArn"]["Fn::GetAtt"][0]
        if source in tables:
            deployed.add(("stream", tables[source], consumer, props["BatchSize"]))
        else:
            deployed.add(("queue", queues[source], consumer, props["BatchSize"]))
    # Then they are exactly the sources the local event pump delivers, with the same batches
    pump = EventPump({}, {}, endpoint_url="http://127.0.0.1:9", region="us-east-1")
    local = set()
    for worker in pump.workers:
        if isinstance(worker, StreamWorker):
            source = worker.source
            local.add(("stream", source.table, source.consumer, source.batch_size))
        elif isinstance(worker, QueueWorker):
            queue_source = worker.source
            local.add(("queue", queue_source.queue, queue_source.consumer, queue_source.batch_size))
    assert len(deployed) == len(dev.of_type("AWS::Lambda::EventSourceMapping"))
    assert deployed == local
    assert len(local) == len(topology.STREAMS) + len(topology.QUEUE_SOURCES)


# --- beyond routes: what the local runner provisions in moto server ---------------------
# Each test reads one kind of resource from the synthesized dev template and from moto
# server after the local runner's provisioning (tests/infra/local_resources.py), in one
# shape keyed by topology names, and compares the two.


@pytest.fixture(scope="module")
def local() -> Iterator[LocalResources]:
    with moto_server() as url:
        yield LocalResources.provision(url)


def test_tables_have_the_same_keys_indexes_stream_and_ttl(dev: Any, local: LocalResources) -> None:
    # Given each deployed table, described as DescribeTable and DescribeTimeToLive read them
    deployed = {}
    for name, props in dev.properties_by_name(dev.stack.data.tables).items():
        ttl = props.get("TimeToLiveSpecification", {})
        deployed[name] = {
            **key_description(props),
            "stream": props.get("StreamSpecification", {}).get("StreamViewType"),
            "ttl": ttl.get("AttributeName") if ttl.get("Enabled") else None,
        }
    # Then moto server holds the same tables, with the same keys, indexes, stream and TTL
    assert deployed == local.tables()
    assert set(deployed) == set(topology.TABLES)


def test_queues_redrive_to_their_own_dlq_after_the_same_receives(
    dev: Any, local: LocalResources
) -> None:
    # Given each deployed queue (and dead-letter queue) with its redrive policy and retention
    names = dev.queue_names()
    deployed = {}
    for logical_id, name in names.items():
        props = dev.resources[logical_id]["Properties"]
        redrive = props.get("RedrivePolicy")
        deployed[name] = {
            "dead_letter_queue": (
                names[redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]] if redrive else None
            ),
            "max_receives": redrive["maxReceiveCount"] if redrive else None,
            "retention_s": props["MessageRetentionPeriod"],
        }
    # Then the local queues are the same, and each queue redrives to its own `<name>-dlq`
    assert deployed == local.redrives()
    assert {n: deployed[n]["dead_letter_queue"] for n in topology.QUEUES} == {
        n: q.dlq_name for n, q in topology.QUEUES.items()
    }


def test_visibility_timeouts_follow_each_stages_own_setting(
    dev: Any, local: LocalResources
) -> None:
    # Given the rule in infra/stages.py: a stage may shorten every queue's visibility timeout
    # (the local stage does, so that retries and redrive take seconds). So each side is
    # compared with its own stage's setting applied to the topology, not with the other.
    props = dev.properties_by_name(dev.stack.events.queues)
    deployed = {name: props[name]["VisibilityTimeout"] for name in topology.QUEUES}
    attributes = local.queue_attributes()
    provisioned = {name: int(attributes[name]["VisibilityTimeout"]) for name in topology.QUEUES}
    # Then the template has the dev stage's timeouts, and moto server the local stage's
    dev_stage, local_stage = stage_config("dev"), stage_config("local")
    assert deployed == {n: dev_stage.visibility_timeout_s(q) for n, q in topology.QUEUES.items()}
    assert provisioned == {
        n: local_stage.visibility_timeout_s(q) for n, q in topology.QUEUES.items()
    }


def test_topics_and_subscriptions_are_the_same(dev: Any, local: LocalResources) -> None:
    # Given each deployed subscription as (topic, queue, raw delivery, filter policy)
    topics, queues = dev.logical_names(dev.stack.events.topics), dev.queue_names()
    deployed = {
        (
            topics[props["TopicArn"]["Ref"]],
            queues[props["Endpoint"]["Fn::GetAtt"][0]],
            props.get("RawMessageDelivery") is True,
            canonical_json(props["FilterPolicy"]) if "FilterPolicy" in props else None,
        )
        for props in (s["Properties"] for s in dev.of_type("AWS::SNS::Subscription").values())
    }
    # Then moto server has the same topics, and the same subscriptions on them
    assert set(topics.values()) == set(local.names["topics"]) == set(topology.TOPICS)
    assert deployed == local.subscriptions()
    assert len(deployed) == len(topology.SUBSCRIPTIONS)


def test_buckets_notify_the_same_queues(dev: Any, local: LocalResources) -> None:
    # Given each deployed bucket's notifications as (event, key prefix, queue)
    queues = dev.queue_names()
    deployed = {
        name: {
            (configuration["Event"], rule["Value"], queues[configuration["Queue"]["Fn::GetAtt"][0]])
            for configuration in props.get("NotificationConfiguration", {}).get(
                "QueueConfigurations", []
            )
            for rule in configuration["Filter"]["S3Key"]["Rules"]
            if rule["Name"] == "prefix"
        }
        for name, props in dev.properties_by_name(dev.stack.events.buckets).items()
    }
    # Then the local buckets notify the same queues of the same events
    assert deployed == local.bucket_notifications()
    assert set(deployed) == set(topology.BUCKETS)


def test_buckets_expire_the_same_prefixes(dev: Any, local: LocalResources) -> None:
    # Given each deployed bucket's lifecycle rules as (key prefix, days, status)
    deployed = {
        name: {
            (
                rule.get("Prefix", rule.get("Filter", {}).get("Prefix", "")),
                rule["ExpirationInDays"],
                rule["Status"],
            )
            for rule in props.get("LifecycleConfiguration", {}).get("Rules", [])
        }
        for name, props in dev.properties_by_name(dev.stack.events.buckets).items()
    }
    # Then the local buckets expire the same prefixes after the same days
    assert deployed == local.bucket_lifecycles()


@pytest.mark.parametrize("bucket", [topology.MEDIA_BUCKET, topology.IMPORTS_BUCKET])
def test_buckets_of_browser_uploads_take_the_same_uploads(
    dev: Any, local: LocalResources, bucket: str
) -> None:
    # Given the bucket's CORS rules, deployed and local (origins are a stage setting)
    assert topology.BUCKETS[bucket].browser_uploads
    (deployed,) = dev.properties_by_name(dev.stack.events.buckets)[bucket]["CorsConfiguration"][
        "CorsRules"
    ]
    (provisioned,) = local.bucket_cors(bucket)
    # Then they allow the same methods and headers, for as long
    assert (deployed["AllowedMethods"], deployed["AllowedHeaders"], deployed["MaxAge"]) == (
        provisioned["AllowedMethods"],
        provisioned["AllowedHeaders"],
        provisioned["MaxAgeSeconds"],
    )
    # And each allows its own stage's origins
    assert deployed["AllowedOrigins"] == list(stage_config("dev").cors_allow_origins)
    assert provisioned["AllowedOrigins"] == list(stage_config("local").cors_allow_origins)


def mapping_settings(synth: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(kind, source, consumer) -> the settings of each deployed event source mapping.

    An absent property is Lambda's default: no batching window, no bisection, retries until
    the record expires (-1), no on-failure destination.
    """
    consumers = {logical: name for name, logical in synth.function_ids().items()}
    tables, queues = synth.logical_names(synth.stack.data.tables), synth.queue_names()
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for mapping in synth.of_type("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        consumer = consumers[props["FunctionName"]["Ref"]]
        source = props["EventSourceArn"]["Fn::GetAtt"][0]
        if source in queues:
            found[("queue", queues[source], consumer)] = {
                "batch_size": props["BatchSize"],
                "batching_window_s": props.get("MaximumBatchingWindowInSeconds", 0),
            }
            continue
        destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        found[("stream", tables[source], consumer)] = {
            "batch_size": props["BatchSize"],
            "bisect_on_error": props.get("BisectBatchOnFunctionError", False),
            "max_retries": props.get("MaximumRetryAttempts", -1),
            "on_failure": queues[destination["Fn::GetAtt"][0]] if destination else None,
        }
    return found


def test_event_source_settings_match_the_local_pump(dev: Any, local: LocalResources) -> None:
    # Given each deployed mapping's batching, bisection, retries and on-failure queue
    deployed = mapping_settings(dev)
    # When the local runner's event pump is built over what it provisioned
    pump = EventPump({}, local.names, endpoint_url=local.url, region=REGION)
    # Then it plays every mapping with the same settings
    assert deployed == pump_settings(pump)
    assert len(deployed) == len(dev.of_type("AWS::Lambda::EventSourceMapping"))


def test_every_mapping_reports_batch_item_failures_and_streams_start_at_the_oldest(
    dev: Any,
) -> None:
    # The local pump always honours `batchItemFailures` and reads streams from TRIM_HORIZON
    # (infra/local/pump.py; its behaviour is tested in tests/integration/test_event_pump.py:
    # reported identifiers, stream checkpoints). Every deployed mapping must do the same.
    for mapping in dev.of_type("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props.get("StartingPosition", "TRIM_HORIZON") == "TRIM_HORIZON"


def test_every_function_gets_the_same_environment_variable_names(
    dev: Any, local: LocalResources
) -> None:
    # Given each deployed function's environment variable names (values differ by runtime)
    deployed = {
        name: set(dev.function(name)["Properties"]["Environment"]["Variables"])
        for name in dev.function_ids()
    }
    # Then the local runner gives each function exactly the same names
    assert deployed == local.environment_names()


def test_the_user_pool_signs_users_in_by_the_same_rules(dev: Any, local: LocalResources) -> None:
    # Given the deployed pool's sign-in settings and its groups' precedences
    (pool,) = dev.of_type("AWS::Cognito::UserPool").values()
    groups = dev.of_type("AWS::Cognito::UserPoolGroup").values()
    deployed = user_pool_description(
        pool["Properties"],
        {g["Properties"]["GroupName"]: g["Properties"]["Precedence"] for g in groups},
    )
    # Then the local pool has the same settings, and ranks the roles the same
    assert deployed == local.user_pool_settings()


def test_the_app_client_is_the_same(dev: Any, local: LocalResources) -> None:
    # Given the deployed app client: flows, secret, errors, attributes, token lifetimes
    (client,) = dev.of_type("AWS::Cognito::UserPoolClient").values()
    props = client["Properties"]
    deployed = app_client_description(props, generates_secret=props["GenerateSecret"])
    # Then the local runner's API client is the same
    assert deployed == local.app_client_settings()
