"""The catalog's CloudFormation stack, built only from `infra.topology` and one `Stage`."""

from __future__ import annotations

import json
import re
from pathlib import Path

from aws_cdk import (
    Acknowledgment,
    CfnOutput,
    Duration,
    Environment,
    RemovalPolicy,
    Stack,
    Tags,
    Validations,
)
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct, IConstruct

from infra import gateway_responses, topology
from infra.stages import Stage

ROOT = Path(__file__).resolve().parents[1]
LAYER_ASSETS = ROOT / ".build" / "layers"  # written by scripts/build_layers.py

# Tag on every function, so tests (and people in the console) can map a deployed function
# back to its topology name without parsing logical ids.
FUNCTION_TAG = "catalog:function"

TABLE_READ_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
TABLE_WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)

PYTHON = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64

# jsii enums carry names, not numbers: the CloudWatch Logs retention periods by day count.
RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def construct_name(logical: str) -> str:
    """`cursor-key` -> `CursorKey`: a stable construct id part for a topology name."""
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", logical) if part)


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept one cdk-nag finding on `scope` (and below), with the reason it is acceptable."""
    # The bare rule id (not the report's `AwsSolutions::` form): cdk-nag itself honours it,
    # both in the synth-time plugin run and in NagPack.validate_scope, which tests use.
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


class CatalogStack(Stack):
    """Tables, secrets, the core layer, one function per topology entry and the REST API."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        env: Environment | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, description=description)
        topology.validate()
        self.stage = stage
        self.removal = RemovalPolicy.RETAIN if stage.retain_data else RemovalPolicy.DESTROY
        self.log_retention = _retention(stage.log_retention_days)
        Tags.of(self).add("project", topology.SERVICE_NAME)
        Tags.of(self).add("stage", stage.name)

        self.tables = {name: self._table(spec) for name, spec in topology.TABLES.items()}
        self.secrets = {name: self._secret(spec) for name, spec in topology.SECRETS.items()}
        self.layers = {"core": self._core_layer()}
        self.functions = {name: self._function(spec) for name, spec in topology.FUNCTIONS.items()}
        self.api = self._api()
        self._monitoring()
        # One output under a stable key, instead of RestApi's hash-suffixed `ApiEndpoint…`.
        self.api.node.try_remove_child("Endpoint")
        CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the catalog API")

    # --- data -----------------------------------------------------------------------------

    def _table(self, spec: topology.Table) -> dynamodb.Table:
        def key(name: str) -> dynamodb.Attribute:
            return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)

        table = dynamodb.Table(
            self,
            f"Table{construct_name(spec.name)}",
            partition_key=key(spec.partition_key),
            sort_key=key(spec.sort_key) if spec.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            stream=dynamodb.StreamViewType[spec.stream] if spec.stream else None,
            time_to_live_attribute=spec.ttl_attribute,
            removal_policy=self.removal,
            deletion_protection=self.stage.retain_data,
        )
        for index in spec.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=key(index.partition_key),
                sort_key=key(index.sort_key) if index.sort_key else None,
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table

    def _secret(self, spec: topology.Secret) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            f"Secret{construct_name(spec.name)}",
            description=spec.description,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
            removal_policy=self.removal,
        )
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "Generated signing key with no external credential behind it; rotating it would "
            "invalidate every outstanding pagination cursor, and key rotation with a grace "
            "period for the previous key is not implemented yet.",
        )
        return secret

    # --- compute --------------------------------------------------------------------------

    def _core_layer(self) -> lambda_.LayerVersion:
        folder = LAYER_ASSETS / "core"
        if not (folder / "python" / "catalog").is_dir():
            raise SystemExit(f"{folder} is missing: run `make build` (scripts/build_layers.py)")
        return lambda_.LayerVersion(
            self,
            "CoreLayer",
            code=lambda_.Code.from_asset(str(folder)),
            compatible_runtimes=[PYTHON],
            compatible_architectures=[ARCHITECTURE],
            description="catalog package and its third-party runtime dependencies",
        )

    def _function(self, spec: topology.Function) -> lambda_.Function:
        construct_id = f"Fn{construct_name(spec.name)}"
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            retention=self.log_retention,
            removal_policy=self.removal,
        )
        # An own role instead of AWSLambdaBasicExecutionRole: that managed policy lets the
        # function create log groups and write to any of them; this one writes to its own.
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"catalog {self.stage.name}: the {spec.name} function",
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            construct_id,
            runtime=PYTHON,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=lambda_.Code.from_asset(str(ROOT / spec.code), exclude=["__pycache__", "*.pyc"]),
            layers=[self.layers[name] for name in spec.layers],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            role=role,
            environment=topology.function_environment(
                spec,
                stage=self.stage.name,
                table_names={name: table.table_name for name, table in self.tables.items()},
                secret_ids={name: secret.secret_arn for name, secret in self.secrets.items()},
                settings=self.stage.function_settings(),
            ),
            description=f"catalog {self.stage.name}: {spec.name}",
        )
        Tags.of(function).add(FUNCTION_TAG, spec.name)
        for table_name, access in spec.tables.items():
            self._grant_table(role, topology.TABLES[table_name], access)
        for secret_name in spec.secrets:
            self.secrets[secret_name].grant_read(role)
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments and PutTelemetryRecords "
            "support no resource-level permissions, so AWS requires Resource '*'.",
        )
        acknowledge(
            function,
            "AwsSolutions-L1",
            "Python 3.12 is the platform the shared layer is built for (scripts/build_layers.py "
            "pins manylinux2014_aarch64 / 3.12); moving runtime means rebuilding and retesting "
            "that layer, a deliberate change rather than a drift to the newest runtime.",
        )
        return function

    def _grant_table(self, role: iam.Role, spec: topology.Table, access: str) -> None:
        # Explicit actions rather than table.grant_read_data: that grant adds Scan and
        # GetRecords, which no function needs, and an `index/*` wildcard.
        table = self.tables[spec.name]
        actions = TABLE_READ_ACTIONS + (TABLE_WRITE_ACTIONS if access == "write" else ())
        resources = [table.table_arn]
        resources += [f"{table.table_arn}/index/{index.name}" for index in spec.indexes]
        role.add_to_policy(iam.PolicyStatement(actions=list(actions), resources=resources))

    # --- API ------------------------------------------------------------------------------

    def _api(self) -> apigateway.RestApi:
        access_logs = logs.LogGroup(
            self, "ApiAccessLogs", retention=self.log_retention, removal_policy=self.removal
        )
        api = apigateway.RestApi(
            self,
            "Api",
            rest_api_name=f"catalog-{self.stage.name}",
            description=f"Product catalog API ({self.stage.name})",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            binary_media_types=list(topology.BINARY_MEDIA_TYPES),
            # Execution logging needs the account-wide API Gateway CloudWatch role, a
            # singleton no single stage's stack should own; access logs + X-Ray cover us.
            cloud_watch_role=False,
            deploy_options=apigateway.StageOptions(
                stage_name=self.stage.name,
                throttling_rate_limit=self.stage.throttle_rate,
                throttling_burst_limit=self.stage.throttle_burst,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.custom(ACCESS_LOG_FORMAT),
                tracing_enabled=True,
                metrics_enabled=True,
            ),
        )
        acknowledge(
            api.deployment_stage,
            "AwsSolutions-APIG6",
            "Execution logging requires the account-level API Gateway CloudWatch role, which "
            "this per-stage stack deliberately does not own; every request is still recorded "
            "by JSON access logs (with integration errors) and X-Ray traces.",
        )
        acknowledge(
            api,
            "AwsSolutions-APIG2",
            "Requests are validated once, in the functions (pydantic models, problem+json "
            "400/422 from one error path); an API Gateway validator would duplicate the "
            "schemas and answer in a different error format.",
        )
        acknowledge(
            api.deployment_stage,
            "AwsSolutions-APIG3",
            "The design guide puts a WAF web ACL in front of the API, but it is not built yet "
            "(a later issue); until then the stage's throttling limits bound abuse.",
        )

        integrations = {
            name: apigateway.LambdaIntegration(
                function,
                proxy=True,
                allow_test_invoke=False,  # halves the Lambda permissions; console tests unused
            )
            for name, function in self.functions.items()
        }
        for route in topology.ROUTES:
            method = api.root.resource_for_path(route.path).add_method(
                route.method,
                integrations[route.function],
                # Placeholder: non-public routes take SigV4 (IAM) until the Cognito
                # authorizer lands in a later issue; public routes need no credentials.
                authorization_type=(
                    apigateway.AuthorizationType.NONE
                    if route.access.public
                    else apigateway.AuthorizationType.IAM
                ),
            )
            if route.access.public:
                _acknowledge_public(method, f"{route.method} {route.path} is a public read.")
            else:
                acknowledge(
                    method,
                    "AwsSolutions-COG4",
                    "Protected by IAM (SigV4) as a placeholder until the Cognito user pool "
                    "authorizer lands in a later issue.",
                )
        for path, owner in topology.paths().items():
            # Every other method on a known path goes to the owner, which answers 405 with
            # `Allow` and CORS preflight itself (no CDK default preflight, no authorizer).
            method = api.root.resource_for_path(path).add_method("ANY", integrations[owner])
            _acknowledge_public(
                method,
                f"ANY {path} only reaches the function's 405/CORS-preflight answers; every "
                "method that reads or changes data has its own method with its own auth.",
            )

        for response_type, problem in gateway_responses.GATEWAY_RESPONSES.items():
            api.add_gateway_response(
                f"Response{construct_name(response_type.lower())}",
                type=apigateway.ResponseType.of(response_type),
                status_code=str(problem.status),
                templates={"application/json": gateway_responses.body(response_type)},
                # API Gateway takes header values as static mapping expressions: quoted.
                response_headers={
                    name: f"'{value}'" for name, value in gateway_responses.HEADERS.items()
                },
            )
        return api

    # --- monitoring -----------------------------------------------------------------------

    def _monitoring(self) -> None:
        five_minutes = Duration.minutes(5)
        # No alarm actions yet: the notification topic comes with the change-events work.
        for name, function in self.functions.items():
            cloudwatch.Alarm(
                self,
                f"Fn{construct_name(name)}ErrorsAlarm",
                alarm_description=f"catalog {self.stage.name}: {name} function errors",
                metric=function.metric_errors(period=five_minutes, statistic="Sum"),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        cloudwatch.Alarm(
            self,
            "Api5xxAlarm",
            alarm_description=f"catalog {self.stage.name}: API answered 5XX",
            metric=self.api.metric_server_error(period=five_minutes, statistic="Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

        dashboard = cloudwatch.Dashboard(self, "Dashboard")
        api = self.api
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="API requests", left=[api.metric_count(statistic="Sum")]),
            cloudwatch.GraphWidget(
                title="API latency",
                left=[api.metric_latency(statistic=p) for p in ("p50", "p90", "p99")],
            ),
            cloudwatch.GraphWidget(
                title="API errors",
                left=[
                    api.metric_client_error(statistic="Sum"),
                    api.metric_server_error(statistic="Sum"),
                ],
            ),
        )
        functions = self.functions.items()
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Function errors",
                left=[f.metric_errors(statistic="Sum", label=n) for n, f in functions],
            ),
            cloudwatch.GraphWidget(
                title="Function duration p90",
                left=[f.metric_duration(statistic="p90", label=n) for n, f in functions],
            ),
            cloudwatch.GraphWidget(
                title="Function throttles",
                left=[f.metric_throttles(statistic="Sum", label=n) for n, f in functions],
            ),
        )


# One JSON object per request; no headers, so no Authorization value can reach the logs.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "ip": "$context.identity.sourceIp",
        "userAgent": "$context.identity.userAgent",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "path": "$context.path",
        "protocol": "$context.protocol",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integration.latency",
        "integrationStatus": "$context.integration.status",
        "integrationError": "$context.integration.error",
        "errorMessage": "$context.error.message",
        "errorType": "$context.error.responseType",
        "xrayTraceId": "$context.xrayTraceId",
    }
)


def _acknowledge_public(method: apigateway.Method, why: str) -> None:
    acknowledge(
        method,
        "AwsSolutions-APIG4",
        f"Deliberately unauthenticated: {why} Access rules come from infra/topology.py.",
    )
    acknowledge(
        method,
        "AwsSolutions-COG4",
        f"Deliberately without a Cognito authorizer: {why}",
    )


def _retention(days: int) -> logs.RetentionDays:
    try:
        return RETENTION[days]
    except KeyError:
        raise ValueError(f"CloudWatch Logs has no {days}-day retention") from None
