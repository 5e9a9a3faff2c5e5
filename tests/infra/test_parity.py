"""The deployed API and the local gateway serve exactly the same (method, path, function)."""

from __future__ import annotations

from typing import Any

import pytest

from infra import topology
from infra.local.gateway import route_table
from infra.local.pump import EventPump, QueueWorker, StreamWorker

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
