"""The deployed API and the local gateway serve exactly the same (method, path, function)."""

from __future__ import annotations

from typing import Any

import pytest

from infra import topology
from infra.local.gateway import route_table

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


def test_event_sources_match_the_topology(dev: Any) -> None:
    # Stream consumers are not in the topology yet; when they land, both runtimes must follow.
    mappings = dev.of_type("AWS::Lambda::EventSourceMapping")
    assert len(mappings) == len(topology.STREAMS)
