"""The synthesized stack holds what the topology and the stage settings declare."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from infra import gateway_responses, topology
from infra.layer_pruning import RUNTIME_BYTECODE, shipped
from infra.stages import stage as stage_config
from tests.infra.conftest import LAYER, PLANTED_BYTECODE, _getatt_targets, watched_metrics

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def ref_target(value: Any) -> str:
    """The logical id a {"Ref": ...} or {"Fn::GetAtt": [...]} points at."""
    if "Ref" in value:
        return str(value["Ref"])
    return str(value["Fn::GetAtt"][0])


# --- data ----------------------------------------------------------------------------------


@pytest.mark.parametrize("table", topology.TABLES.values(), ids=lambda t: t.name)
def test_each_topology_table_is_on_demand_with_pitr_stream_and_indexes(
    dev: Any, table: Any
) -> None:
    # Given the topology's table, When synthesized, Then DynamoDB gets it as declared.
    expected: dict[str, Any] = {
        "BillingMode": "PAY_PER_REQUEST",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "KeySchema": [
            {"AttributeName": table.partition_key, "KeyType": "HASH"},
            *([{"AttributeName": table.sort_key, "KeyType": "RANGE"}] if table.sort_key else []),
        ],
    }
    if table.stream:
        expected["StreamSpecification"] = {"StreamViewType": table.stream}
    if table.indexes:
        expected["GlobalSecondaryIndexes"] = [
            Match.object_like({"IndexName": index.name, "Projection": {"ProjectionType": "ALL"}})
            for index in table.indexes
        ]
    dev.template.has_resource_properties("AWS::DynamoDB::Table", expected)
    assert len(dev.of_type("AWS::DynamoDB::Table")) == len(topology.TABLES)


def test_dev_data_is_disposable_and_prod_data_is_retained(dev: Any, synth_stage: Any) -> None:
    prod = synth_stage("prod")
    for synth, policy in ((dev, "Delete"), (prod, "Retain")):
        for kind in ("AWS::DynamoDB::Table", "AWS::Logs::LogGroup", "AWS::SecretsManager::Secret"):
            policies = {r.get("DeletionPolicy") for r in synth.of_type(kind).values()}
            assert policies == {policy}, f"{synth.stage} {kind}"
    for table in prod.of_type("AWS::DynamoDB::Table").values():
        assert table["Properties"]["DeletionProtectionEnabled"] is True


def test_each_secret_is_generated(dev: Any) -> None:
    secrets = dev.of_type("AWS::SecretsManager::Secret")
    # The topology's, and the edge cache's origin secret (tests/infra/test_cdn.py)
    cdn = {k for k in secrets if k.startswith("CdnOriginSecret")}
    assert len(cdn) == 1
    assert len(secrets) == len(topology.SECRETS) + len(cdn)
    descriptions = {s["Properties"]["Description"] for k, s in secrets.items() if k not in cdn}
    assert descriptions == {s.description for s in topology.SECRETS.values()}
    for secret in secrets.values():
        assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32


# --- functions -----------------------------------------------------------------------------


def test_every_topology_function_exists_once(dev: Any) -> None:
    assert set(dev.function_ids()) == set(topology.FUNCTIONS)
    # Besides them, only the deploy's migration runner: its start and poll functions and
    # the three of aws-cdk-lib's provider framework (onEvent, isComplete, onTimeout).
    runner = dev.deploy_runner_functions()
    assert len(runner) == 5
    assert set(dev.of_type("AWS::Lambda::Function")) == set(dev.function_ids().values()) | runner


@pytest.mark.parametrize("spec", topology.FUNCTIONS.values(), ids=lambda f: f.name)
def test_function_runs_on_arm64_python312_with_tracing_and_topology_sizes(
    dev: Any, spec: Any
) -> None:
    props = dev.function(spec.name)["Properties"]
    assert props["Architectures"] == ["arm64"]
    assert props["Runtime"] == "python3.12"
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["Handler"] == spec.handler
    assert props["MemorySize"] == spec.memory_mb
    assert props["Timeout"] == spec.timeout_s
    layers = [ref_target(layer) for layer in props["Layers"]]
    assert all(dev.resources[layer]["Type"] == "AWS::Lambda::LayerVersion" for layer in layers)


@pytest.mark.parametrize("spec", topology.FUNCTIONS.values(), ids=lambda f: f.name)
def test_function_environment_is_the_topology_environment(dev: Any, spec: Any) -> None:
    # Given the shared definition of a function's environment (also used by the local runner)
    stage = stage_config("dev")
    expected = topology.function_environment(
        spec,
        stage="dev",
        table_names={name: f"<{name}>" for name in topology.TABLES},
        secret_ids={name: f"<{name}>" for name in topology.SECRETS},
        user_pool=topology.UserPoolRefs(
            pool_id="<pool>", client_id="<client>", issuer="<issuer>", jwks_url="<jwks>"
        ),
        settings=stage.function_settings(),
        bucket_names={name: f"<{name}>" for name in topology.BUCKETS},
        topic_arns={name: f"<{name}>" for name in topology.TOPICS},
        queue_urls={name: f"<{name}>" for name in topology.QUEUES},
        images_base_url="<cdn>",
    )
    # When synthesized
    actual = dev.function(spec.name)["Properties"]["Environment"]["Variables"]
    # Then the same variables are set; plain values equal, names/ids point at the resources
    # (the issuer and JWKS URL are joined strings: test_identity checks those).
    assert set(actual) == set(expected)
    referenced = (
        "AWS::DynamoDB::Table",
        "AWS::SecretsManager::Secret",
        "AWS::Cognito::UserPool",
        "AWS::Cognito::UserPoolClient",
        "AWS::S3::Bucket",
        "AWS::SNS::Topic",
        "AWS::SQS::Queue",
    )
    for name, value in expected.items():
        if value in ("<issuer>", "<jwks>"):
            assert "Fn::Join" in actual[name], name
        elif value == "<cdn>":  # https:// + the images distribution's domain
            (cdn,) = _getatt_targets(actual[name])
            assert dev.resources[cdn]["Type"] == "AWS::CloudFront::Distribution", name
        elif value.startswith("<"):
            assert dev.resources[ref_target(actual[name])]["Type"] in referenced, name
        else:
            assert actual[name] == value, name
    for table in spec.tables:
        assert topology.TABLES[table].env_var in actual


def test_products_function_knows_its_table(dev: Any) -> None:
    variables = dev.function("products")["Properties"]["Environment"]["Variables"]
    assert dev.resources[ref_target(variables["TABLE_PRODUCTS"])]["Type"] == (
        "AWS::DynamoDB::Table"
    )


def test_layer_targets_arm64_python312(dev: Any) -> None:
    dev.template.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {"CompatibleRuntimes": ["python3.12"], "CompatibleArchitectures": ["arm64"]},
    )


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_every_log_group_has_the_stage_retention(synth_stage: Any, name: str) -> None:
    synth = synth_stage(name)
    retention = stage_config(name).log_retention_days
    groups = synth.of_type("AWS::Logs::LogGroup")
    # One per function, the API's access logs, the WAF's logs, and the migration runner's four
    # (its state machine, its start and poll functions, the provider framework's functions).
    runner = synth.logical_ids_under(synth.stack.migrations, "AWS::Logs::LogGroup")
    assert len(runner) == 4
    assert len(groups) == len(topology.FUNCTIONS) + 2 + len(runner)
    assert {g["Properties"].get("RetentionInDays") for g in groups.values()} == {retention}


def test_each_function_logs_to_its_own_log_group(dev: Any) -> None:
    targets = {
        ref_target(dev.function(name)["Properties"]["LoggingConfig"]["LogGroup"])
        for name in topology.FUNCTIONS
    }
    assert len(targets) == len(topology.FUNCTIONS)
    assert all(dev.resources[t]["Type"] == "AWS::Logs::LogGroup" for t in targets)


# --- API -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_api_stage_has_access_logs_tracing_metrics_and_throttling(
    synth_stage: Any, name: str
) -> None:
    synth = synth_stage(name)
    settings = stage_config(name)
    (api_stage,) = synth.of_type("AWS::ApiGateway::Stage").values()
    props = api_stage["Properties"]
    assert props["StageName"] == name
    assert props["TracingEnabled"] is True
    access_log = json.loads(props["AccessLogSetting"]["Format"])
    assert {"requestId", "status", "integrationError", "xrayTraceId"} <= set(access_log)
    assert "DestinationArn" in props["AccessLogSetting"]
    # The stage-wide settings ("/*" "*"); throttled routes add their own (test_identity).
    (method_settings,) = [s for s in props["MethodSettings"] if s["ResourcePath"] == "/*"]
    assert method_settings["HttpMethod"] == "*"
    assert all(s["MetricsEnabled"] is True for s in props["MethodSettings"])
    assert method_settings["ThrottlingRateLimit"] == settings.throttle_rate
    assert method_settings["ThrottlingBurstLimit"] == settings.throttle_burst


def test_api_accepts_the_topology_binary_media_types(dev: Any) -> None:
    (api,) = dev.of_type("AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["BinaryMediaTypes"] == list(topology.BINARY_MEDIA_TYPES)


def test_unauthorized_names_the_bearer_scheme(dev: Any) -> None:
    (response,) = [
        r["Properties"]
        for r in dev.of_type("AWS::ApiGateway::GatewayResponse").values()
        if r["Properties"]["ResponseType"] == "UNAUTHORIZED"
    ]
    assert response["StatusCode"] == "401"
    assert response["ResponseParameters"]["gatewayresponse.header.WWW-Authenticate"].startswith(
        "'Bearer "
    )


def test_no_cors_preflight_methods_are_generated(dev: Any) -> None:
    verbs = {m["Properties"]["HttpMethod"] for m in dev.of_type("AWS::ApiGateway::Method").values()}
    assert "OPTIONS" not in verbs  # the functions answer preflight through the ANY method


@pytest.mark.parametrize("response_type", gateway_responses.GATEWAY_RESPONSES)
def test_gateway_response_answers_problem_json(dev: Any, response_type: str) -> None:
    problem = gateway_responses.GATEWAY_RESPONSES[response_type]
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in dev.of_type("AWS::ApiGateway::GatewayResponse").values()
    }
    props = responses[response_type]
    assert props["StatusCode"] == str(problem.status)
    body = json.loads(props["ResponseTemplates"]["application/json"])
    assert body["status"] == problem.status
    assert body == json.loads(gateway_responses.body(response_type))
    headers = props["ResponseParameters"]
    assert headers["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
    expected = gateway_responses.headers(response_type)
    assert gateway_responses.HEADERS.items() <= expected.items()
    assert headers == {f"gatewayresponse.header.{n}": f"'{v}'" for n, v in expected.items()}


def test_api_url_and_user_pool_ids_are_outputs(dev: Any) -> None:
    outputs = dev.json["Outputs"]
    assert set(outputs) == {
        "ApiUrl",
        "UserPoolId",
        "UserPoolClientId",
        "ImagesUrl",
        "CdnUrl",
        "MigrationsStateMachineArn",
    }
    (edge,) = _getatt_targets(outputs["CdnUrl"]["Value"])
    assert "execute-api" in json.dumps(dev.resources[edge]["Properties"]["DistributionConfig"])
    assert dev.resources[ref_target(outputs["MigrationsStateMachineArn"]["Value"])]["Type"] == (
        "AWS::StepFunctions::StateMachine"
    )
    (cdn,) = _getatt_targets(outputs["ImagesUrl"]["Value"])
    assert dev.resources[cdn]["Type"] == "AWS::CloudFront::Distribution"
    assert dev.resources[ref_target(outputs["UserPoolId"]["Value"])]["Type"] == (
        "AWS::Cognito::UserPool"
    )
    assert dev.resources[ref_target(outputs["UserPoolClientId"]["Value"])]["Type"] == (
        "AWS::Cognito::UserPoolClient"
    )


# --- monitoring ----------------------------------------------------------------------------


def test_each_function_has_an_errors_alarm(dev: Any) -> None:
    alarms = dev.of_type("AWS::CloudWatch::Alarm").values()
    watched = [m for a in alarms for m in watched_metrics(a["Properties"])]
    alarmed = {
        ref_target(metric["Dimensions"][0]["Value"])
        for metric in watched
        if metric["MetricName"] == "Errors" and metric["Namespace"] == "AWS/Lambda"
    }
    assert alarmed == set(dev.function_ids().values())


def test_api_5xx_has_an_alarm(dev: Any) -> None:
    alarms = [a["Properties"] for a in dev.of_type("AWS::CloudWatch::Alarm").values()]
    (faults,) = [
        a
        for a in alarms
        if any(
            m["Namespace"] == "AWS/ApiGateway" and m["MetricName"] == "5XXError"
            for m in watched_metrics(a)
        )
    ]
    # Over 1% of the requests: the Average of 5XXError (0 or 1 per request)
    assert (faults["Threshold"], faults["ComparisonOperator"]) == (0.01, "GreaterThanThreshold")
    stats = [m["MetricStat"]["Stat"] for m in faults.get("Metrics", []) if "MetricStat" in m]
    assert (stats or [faults.get("Statistic")]) == ["Average"]
    assert faults["EvaluationPeriods"] == 1


def test_dashboard_shows_api_and_function_metrics(dev: Any) -> None:
    (dashboard,) = dev.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("Count", "Latency", "4XXError", "5XXError", "Errors", "Duration", "Throttles"):
        assert f'\\"{metric}\\"' in body, metric


def test_assets_ship_the_runtime_s_bytecode_and_not_what_local_runs_leave(dev: Any) -> None:
    # Given a layer build holding bytecode of another Python (conftest plants some, as the
    # tests, `make run` and `make bench` leave it) beside the runtime's, where the build
    # compiled it (scripts/build_layers.py, when a python3.12 is at hand)
    assert PLANTED_BYTECODE.is_file()
    compiled = any(LAYER.rglob(f"*.{RUNTIME_BYTECODE}.pyc"))
    # When the stack is synthesized, its code assets staged
    outdir = dev.template_file.parent
    staged = [path for path in outdir.glob("asset.*") if path.is_dir()]
    assert len(staged) >= len(topology.FUNCTIONS)
    files = [path for folder in staged for path in folder.rglob("*.pyc")]
    # Then no asset holds another Python's bytecode
    assert [str(path.relative_to(outdir)) for path in files if not shipped(path.name)] == []
    # And the layer keeps the runtime's, as it was compiled
    assert any(path.name.endswith(f".{RUNTIME_BYTECODE}.pyc") for path in files) == compiled
