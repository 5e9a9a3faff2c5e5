"""The topology is consistent, and each function serves exactly its topology routes."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest

from catalog.http.routes import ROUTES
from infra import topology
from infra.local.gateway import ANY, route_table
from infra.openapi import DOCUMENT, generate, render

ROOT = Path(__file__).resolve().parents[2]


def test_the_topology_validates() -> None:
    topology.validate()


API_FUNCTIONS = sorted(name for name in topology.FUNCTIONS if topology.routes_of(name))
EVENT_FUNCTIONS = sorted(set(topology.FUNCTIONS) - set(API_FUNCTIONS) - {topology.DEPLOY_RUNNER})


def test_the_deploy_runner_has_neither_routes_nor_event_sources() -> None:
    # The deploy's state machine is its one caller (infra/stack/migrations.py)
    name = topology.DEPLOY_RUNNER
    assert name in topology.FUNCTIONS
    assert topology.routes_of(name) == ()
    consumers = {s.consumer for s in (*topology.STREAMS, *topology.QUEUE_SOURCES)}
    assert name not in consumers


@pytest.mark.parametrize("name", EVENT_FUNCTIONS)
def test_each_function_without_routes_consumes_events(name: str) -> None:
    consumers = {s.consumer for s in topology.STREAMS} | {
        s.consumer for s in topology.QUEUE_SOURCES
    }
    assert name in consumers


@pytest.mark.parametrize("name", API_FUNCTIONS)
def test_each_function_registers_exactly_its_topology_routes(name: str) -> None:
    spec = topology.FUNCTIONS[name]
    module_spec = importlib.util.spec_from_file_location(
        f"_topology_check_{name}", ROOT / spec.code / "handler.py"
    )
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    served = {
        (method, re.sub(r"<(\w+)>", r"{\1}", rule))
        for method, rule in registered_routes(module.app)
    }
    declared = {(route.method, route.path) for route in topology.routes_of(name)}
    assert served == declared


def registered_routes(app: Any) -> list[tuple[str, str]]:
    """(method, rule) of every route a Powertools resolver serves.

    Powertools has no public listing of its routes: this reads its two private lists, the
    one place anything of ours does (the functions need none: catalog.http.pipeline reads
    the topology's routes). A Powertools release that renames them fails here, loudly.
    """
    routes = app._static_routes + app._dynamic_routes
    return [(route.method, route.path) for route in routes]


def test_the_gateway_adds_one_any_fallback_per_path_to_its_owner() -> None:
    fallbacks = {(r.path, r.function) for r in route_table() if r.method == ANY}
    assert fallbacks == set(topology.paths().items())


def test_the_committed_openapi_document_is_current() -> None:
    assert DOCUMENT.read_text() == render(generate()), "run `make openapi` and commit"


def test_merging_capabilities_refuses_a_name_declared_twice() -> None:
    # Given two capabilities that both declare a queue named "jobs"
    pool = topology.UserPool("users", groups=("viewer",), default_group="viewer")
    first = topology.Capability("one", queues=(topology.Queue("jobs"),), user_pool=pool)
    second = topology.Capability("two", queues=(topology.Queue("jobs"),))
    # When they are merged, then the merge refuses, naming the kind and the name
    with pytest.raises(ValueError, match="queue 'jobs' is declared twice"):
        topology.merge(first, second)


def test_the_merged_topology_holds_each_capability_s_declarations_in_order() -> None:
    names = [f.name for c in topology.CAPABILITIES for f in c.functions]
    assert list(topology.FUNCTIONS) == names
    assert len(set(names)) == len(names)


def test_every_function_serving_routes_is_given_the_access_table() -> None:
    # Given the functions that serve routes: each checks a signed-in caller's access record
    # (catalog.identity.revocation), on public routes too when a token comes with the call
    serving = {route.function for route in ROUTES}
    # Then the topology gives each of them the table (its name and the right to read it)
    assert {name for name in serving if "access" not in topology.FUNCTIONS[name].tables} == set()
    # And those that change access (sign-out; disable, demote, delete) may write it
    assert {n for n in serving if topology.FUNCTIONS[n].tables.get("access") == "write"} == {
        "auth",
        "users",
    }
