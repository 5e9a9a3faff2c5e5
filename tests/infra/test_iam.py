"""Each function's role allows what its topology entry (and the stage) declares, and no more."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import topology
from infra.stack import (
    COGNITO_ADMIN_ACTIONS,
    COGNITO_AUTO_CONFIRM_ACTIONS,
    TABLE_READ_ACTIONS,
    TABLE_SCAN_ACTIONS,
    TABLE_WRITE_ACTIONS,
)
from infra.stages import stage as stage_config

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

# Actions AWS grants on Resource "*" only (X-Ray has no resource-level permissions).
# (dynamodb:ListStreams neither: the stream event source grants it to stream consumers.)
STREAM_READ_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
RESOURCELESS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "dynamodb:ListStreams"}


def statements_of(dev: Any, function: str) -> list[dict[str, Any]]:
    """Every policy statement of the function's role: inline, attached or managed."""
    role_id = dev.function(function)["Properties"]["Role"]["Fn::GetAtt"][0]
    role = dev.resources[role_id]["Properties"]
    assert not role.get("ManagedPolicyArns"), "managed policies are broader than needed"
    statements = [s for p in role.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    for policy in dev.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    assert all(s["Effect"] == "Allow" for s in statements)
    return statements


def actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def resources(statement: dict[str, Any]) -> list[Any]:
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


def allowed(dev: Any, function: str, prefix: str) -> set[str]:
    return {a for s in statements_of(dev, function) for a in actions(s) if a.startswith(prefix)}


def test_meta_reads_the_table_but_cannot_change_it(dev: Any) -> None:
    # Given meta declares read access only (to the products, and to the access records that
    # tell whether a caller's sign-in still holds)
    assert topology.FUNCTIONS["meta"].tables == {"products": "read", "access": "read"}
    # Then its role has the read actions and none of the write ones
    dynamodb = allowed(dev, "meta", "dynamodb:")
    assert dynamodb == set(TABLE_READ_ACTIONS)
    assert not dynamodb & {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}


def test_products_may_write_the_table(dev: Any) -> None:
    dynamodb = allowed(dev, "products", "dynamodb:")
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} <= dynamodb


@pytest.mark.parametrize("spec", topology.FUNCTIONS.values(), ids=lambda f: f.name)
def test_table_actions_follow_the_declared_access(dev: Any, spec: Any) -> None:
    expected: set[str] = set()
    for access in spec.tables.values():
        expected |= set(TABLE_READ_ACTIONS)
        if access in ("write", "migrate"):
            expected |= set(TABLE_WRITE_ACTIONS)
        if access == "migrate":
            expected |= set(TABLE_SCAN_ACTIONS)
    if any(stream.consumer == spec.name for stream in topology.STREAMS):
        expected |= set(STREAM_READ_ACTIONS)  # granted by the stream event source
    dynamodb = allowed(dev, spec.name, "dynamodb:")
    assert dynamodb == expected
    if "migrate" not in spec.tables.values():
        assert "dynamodb:Scan" not in dynamodb  # only the migrations list a whole table


def test_only_the_migrations_function_may_scan(dev: Any) -> None:
    # Given every function's role
    scanners = {
        name for name in topology.FUNCTIONS if "dynamodb:Scan" in allowed(dev, name, "dynamodb:")
    }
    # Then the one that may read a whole table is the migrations function, on the products
    assert scanners == {"migrations"}
    assert topology.FUNCTIONS["migrations"].tables == {"products": "migrate"}


@pytest.mark.parametrize("spec", topology.FUNCTIONS.values(), ids=lambda f: f.name)
def test_secrets_are_readable_only_by_functions_that_declare_them(dev: Any, spec: Any) -> None:
    secrets = allowed(dev, spec.name, "secretsmanager:")
    if spec.secrets:
        assert secrets == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    else:
        assert secrets == set()


@pytest.mark.parametrize("spec", topology.FUNCTIONS.values(), ids=lambda f: f.name)
def test_no_wildcards_beyond_xray(dev: Any, spec: Any) -> None:
    for statement in statements_of(dev, spec.name):
        assert not any("*" in a for a in actions(statement)), statement
        if "*" in resources(statement):
            assert actions(statement) <= RESOURCELESS, statement
        for resource in resources(statement):
            assert "/index/*" not in str(resource), "indexes are granted by name"


@pytest.mark.parametrize("spec", topology.FUNCTIONS.values(), ids=lambda f: f.name)
def test_functions_write_logs_only_to_their_own_log_group(dev: Any, spec: Any) -> None:
    own = dev.function(spec.name)["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    for statement in statements_of(dev, spec.name):
        if any(a.startswith("logs:") for a in actions(statement)):
            assert actions(statement) == {"logs:CreateLogStream", "logs:PutLogEvents"}
            assert resources(statement) == [{"Fn::GetAtt": [own, "Arn"]}]


# --- Cognito ---------------------------------------------------------------------------------

ADMIN_FUNCTIONS = [f for f in topology.FUNCTIONS.values() if f.user_pool == "admin"]
VERIFY_FUNCTIONS = [f for f in topology.FUNCTIONS.values() if f.user_pool == "verify"]


def cognito_statements(synth: Any, function: str) -> list[dict[str, Any]]:
    return [
        s
        for s in statements_of(synth, function)
        if any(a.startswith("cognito-idp:") for a in actions(s))
    ]


def user_pool_arn(synth: Any) -> dict[str, Any]:
    (pool_id,) = synth.of_type("AWS::Cognito::UserPool")
    return {"Fn::GetAtt": [pool_id, "Arn"]}


def test_the_topology_has_both_kinds_of_user_pool_access() -> None:
    # Guards the parametrized tests below against silently testing nothing.
    assert ADMIN_FUNCTIONS and VERIFY_FUNCTIONS


@pytest.mark.parametrize("spec", ADMIN_FUNCTIONS, ids=lambda f: f.name)
def test_admin_functions_manage_users_on_the_pool_only(dev: Any, spec: Any) -> None:
    # Given a function that manages users, in dev (which auto-confirms sign-ups)
    assert stage_config("dev").auto_confirm_users
    # Then it may do the admin actions, and only on the pool's ARN
    statements = cognito_statements(dev, spec.name)
    assert statements, spec.name
    for statement in statements:
        assert resources(statement) == [user_pool_arn(dev)], statement
    granted = {a for s in statements for a in actions(s)}
    assert granted == set(COGNITO_ADMIN_ACTIONS) | set(COGNITO_AUTO_CONFIRM_ACTIONS)


@pytest.mark.parametrize("spec", VERIFY_FUNCTIONS, ids=lambda f: f.name)
def test_verify_functions_get_no_cognito_permissions(dev: Any, spec: Any) -> None:
    # Verifying a token needs only the pool's public JWKS: no IAM at all.
    assert allowed(dev, spec.name, "cognito-idp:") == set()


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_only_auto_confirming_stages_may_confirm_sign_ups(synth_stage: Any, stage: str) -> None:
    # Given the stage's setting, When synthesized
    synth = synth_stage(stage)
    auto_confirm = stage_config(stage).auto_confirm_users
    assert auto_confirm == (stage == "dev")  # the premise: dev confirms, prod emails a code
    # Then no role anywhere may confirm sign-ups unless the stage says so
    every_policy = json.dumps([synth.of_type("AWS::IAM::Policy"), synth.of_type("AWS::IAM::Role")])
    assert ("cognito-idp:AdminConfirmSignUp" in every_policy) == auto_confirm
    assert ("cognito-idp:AdminUpdateUserAttributes" in every_policy) == auto_confirm
    # And the admin functions keep every other admin action either way
    for spec in ADMIN_FUNCTIONS:
        granted = allowed(synth, spec.name, "cognito-idp:")
        expected = set(COGNITO_ADMIN_ACTIONS)
        if auto_confirm:
            expected |= set(COGNITO_AUTO_CONFIRM_ACTIONS)
        assert granted == expected, f"{stage} {spec.name}"


@pytest.mark.parametrize("spec", topology.FUNCTIONS.values(), ids=lambda f: f.name)
def test_only_functions_that_send_email_may_and_only_as_the_sender(dev: Any, spec: Any) -> None:
    statements = [s for s in statements_of(dev, spec.name) if "ses:SendEmail" in actions(s)]
    if not spec.sends_email:
        assert statements == []
        return
    (statement,) = statements
    sender = stage_config("dev").email_sender
    identities = {json.dumps(r).split(":identity/")[-1].rstrip('"]}') for r in resources(statement)}
    assert identities == {sender, sender.split("@")[1]}


@pytest.mark.parametrize("spec", topology.FUNCTIONS.values(), ids=lambda f: f.name)
def test_topics_and_queues_only_as_declared(dev: Any, spec: Any) -> None:
    assert ("sns:Publish" in allowed(dev, spec.name, "sns:")) == bool(spec.topics)
    sends = "sqs:SendMessage" in allowed(dev, spec.name, "sqs:")
    # (a stream consumer also sends to its on-failure queue: the stream source grants that)
    on_failure = any(s.consumer == spec.name and s.on_failure for s in topology.STREAMS)
    assert sends == bool(spec.queues or on_failure)
