"""SnapStart in prod: every API function snapshots its published versions (arm64), and API
Gateway invokes each one's `live` alias; dev and the event consumers run without it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Match

from infra import topology
from infra.stack.functions import LIVE_ALIAS, api_functions

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def test_api_functions_are_the_ones_serving_routes() -> None:
    assert api_functions() == {route.function for route in topology.ROUTES}
    assert "publisher" not in api_functions()  # a stream consumer: nobody waits on it


def test_prod_api_functions_snapshot_their_published_versions_on_arm64(
    synth_stage: Callable[[str], Any],
) -> None:
    prod = synth_stage("prod")
    ids = prod.function_ids()
    for name in api_functions():
        prod.template.has_resource_properties(
            "AWS::Lambda::Function",
            Match.object_like(
                {
                    "SnapStart": {"ApplyOn": "PublishedVersions"},
                    "Architectures": ["arm64"],
                    "Runtime": "python3.12",
                    "Description": f"catalog prod: {name}",
                }
            ),
        )
    for name in set(topology.FUNCTIONS) - api_functions():
        assert "SnapStart" not in prod.resources[ids[name]]["Properties"], name


def test_prod_api_gateway_invokes_each_function_s_live_alias_of_its_published_version(
    synth_stage: Callable[[str], Any],
) -> None:
    # Given the prod template
    prod = synth_stage("prod")
    ids = prod.function_ids()
    aliases = prod.of_type("AWS::Lambda::Alias")
    versions = prod.of_type("AWS::Lambda::Version")
    alias_of = {a["Properties"]["FunctionName"]["Ref"]: k for k, a in aliases.items()}
    # Then each API function has one alias `live` on its current published version
    assert set(alias_of) == {ids[name] for name in api_functions()}
    for function_id, alias_id in alias_of.items():
        alias = aliases[alias_id]["Properties"]
        assert alias["Name"] == LIVE_ALIAS
        version_id = alias["FunctionVersion"]["Fn::GetAtt"][0]
        assert versions[version_id]["Properties"]["FunctionName"] == {"Ref": function_id}
    # And every method's integration invokes an alias, never the function ($LATEST)
    methods = prod.of_type("AWS::ApiGateway::Method")
    assert methods
    for method_id, method in methods.items():
        uri = json.dumps(method["Properties"]["Integration"]["Uri"])
        assert any(f'{{"Ref": "{alias_id}"}}' in uri for alias_id in aliases), method_id
        assert not any(f'"{ids[name]}"' in uri for name in topology.FUNCTIONS), method_id
    # And API Gateway may invoke the aliases (the permission names the alias)
    permissions = [
        p["Properties"]
        for p in prod.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    targets = {json.dumps(p["FunctionName"]) for p in permissions}
    assert targets == {json.dumps({"Ref": alias_id}) for alias_id in aliases}


def test_dev_runs_without_snapstart_and_invokes_the_functions(dev: Any) -> None:
    assert dev.of_type("AWS::Lambda::Alias") == {}
    for function in dev.of_type("AWS::Lambda::Function").values():
        assert "SnapStart" not in function["Properties"]
