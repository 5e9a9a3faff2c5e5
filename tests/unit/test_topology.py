"""The topology is consistent, and each function serves exactly its topology routes."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from infra import topology
from infra.local.gateway import ANY, route_table
from infra.openapi import DOCUMENT, generate, render

ROOT = Path(__file__).resolve().parents[2]


def test_the_topology_validates() -> None:
    topology.validate()


API_FUNCTIONS = sorted(name for name in topology.FUNCTIONS if topology.routes_of(name))
EVENT_FUNCTIONS = sorted(set(topology.FUNCTIONS) - set(API_FUNCTIONS))


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
    app = module.app
    served = {
        (route.method, re.sub(r"<(\w+)>", r"{\1}", route.path))
        for route in app._static_routes + app._dynamic_routes
    }
    declared = {(route.method, route.path) for route in topology.routes_of(name)}
    assert served == declared


def test_the_gateway_adds_one_any_fallback_per_path_to_its_owner() -> None:
    fallbacks = {(r.path, r.function) for r in route_table() if r.method == ANY}
    assert fallbacks == set(topology.paths().items())


def test_the_committed_openapi_document_is_current() -> None:
    assert DOCUMENT.read_text() == render(generate()), "run `make openapi` and commit"
