"""The REST API: one method per topology route, the Cognito authorizer, gateway responses."""

from __future__ import annotations

import json
from collections.abc import Mapping

from aws_cdk import (
    Aws,
    aws_apigateway as apigateway,
    aws_cognito as cognito,
    aws_iam as iam,
    aws_lambda as lambda_,
    aws_logs as logs,
)
from constructs import Construct

from infra import gateway_responses, topology
from infra.stack import base
from infra.stack.base import Concern, construct_name
from infra.stages import Stage

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
        # Who called (the Cognito `sub`; empty on public routes): an id, not a credential.
        "principal": "$context.authorizer.claims.sub",
    }
)


class Api(Concern):
    """Exposes `rest_api`, `authorizer` and `access_logs`; needs what to invoke for each
    function (by topology name: the function, or its SnapStart alias) and the user pool the
    authorizer trusts."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        functions: Mapping[str, lambda_.IFunction],
        user_pool: cognito.UserPool,
    ) -> None:
        super().__init__(scope, construct_id, stage=stage)
        self.access_logs = logs.LogGroup(
            self, "ApiAccessLogs", retention=self.log_retention, removal_policy=self.removal
        )
        self.rest_api = self._build_rest_api()
        self.authorizer = apigateway.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            cognito_user_pools=[user_pool],
            authorizer_name=f"catalog-{self.stage.name}-users",
        )
        self._build_methods(functions)
        self._build_gateway_responses()

    def _build_rest_api(self) -> apigateway.RestApi:
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
                access_log_destination=apigateway.LogGroupLogDestination(self.access_logs),
                access_log_format=apigateway.AccessLogFormat.custom(ACCESS_LOG_FORMAT),
                tracing_enabled=True,
                metrics_enabled=True,
                method_options=_method_throttles(),
            ),
        )
        # The stack outputs the URL under a stable key, instead of RestApi's hash-suffixed
        # `ApiEndpoint…`.
        api.node.try_remove_child("Endpoint")
        base.acknowledge(
            api.deployment_stage,
            "AwsSolutions-APIG6",
            "Execution logging requires the account-level API Gateway CloudWatch role, which "
            "this per-stage stack deliberately does not own; every request is still recorded "
            "by JSON access logs (with integration errors) and X-Ray traces.",
        )
        base.acknowledge(
            api,
            "AwsSolutions-APIG2",
            "Requests are validated once, in the functions (pydantic models, problem+json "
            "400/422 from one error path); an API Gateway validator would duplicate the "
            "schemas and answer in a different error format.",
        )
        return api

    def _build_methods(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        # One invoke permission per function, for any method of this API, instead of the one
        # per method that LambdaIntegration adds: 70 permissions took the prod stack past
        # CloudFormation's 500 resources. Which function serves which route is still fixed
        # by each method's integration; the permission only says that this API may invoke.
        integrations: dict[str, apigateway.Integration] = {}
        serving = {route.function for route in topology.ROUTES} | set(topology.paths().values())
        for name, function in functions.items():
            if name not in serving:
                continue  # an event consumer: nothing of the API invokes it
            function.add_permission(
                "ApiInvoke",
                principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                source_arn=self.rest_api.arn_for_execute_api(),
            )
            integrations[name] = apigateway.Integration(
                type=apigateway.IntegrationType.AWS_PROXY,
                integration_http_method="POST",
                uri=(
                    f"arn:{Aws.PARTITION}:apigateway:{Aws.REGION}:lambda:path/2015-03-31"
                    f"/functions/{function.function_arn}/invocations"
                ),
            )
        root = self.rest_api.root
        for route in topology.ROUTES:
            resource = root.resource_for_path(route.path)
            if route.access.public:
                method = resource.add_method(route.method, integrations[route.function])
                _acknowledge_public(method, _why_public(route))
                continue
            # The gateway checks the token is a valid, unexpired access token of the pool
            # (asking for the scope rejects id tokens); the function checks the role.
            resource.add_method(
                route.method,
                integrations[route.function],
                authorizer=self.authorizer,
                authorization_type=apigateway.AuthorizationType.COGNITO,
                authorization_scopes=[topology.USER_POOL.access_scope],
            )
        for path, owner in topology.paths().items():
            # Every other method on a known path goes to the owner, which answers 405 with
            # `Allow` and CORS preflight itself (no CDK default preflight, no authorizer).
            method = root.resource_for_path(path).add_method("ANY", integrations[owner])
            _acknowledge_public(
                method,
                f"ANY {path} only reaches the function's 405/CORS-preflight answers; every "
                "method that reads or changes data has its own method with its own auth.",
            )

    def _build_gateway_responses(self) -> None:
        for response_type, problem in gateway_responses.GATEWAY_RESPONSES.items():
            self.rest_api.add_gateway_response(
                f"Response{construct_name(response_type.lower())}",
                type=apigateway.ResponseType.of(response_type),
                status_code=str(problem.status),
                templates={"application/json": gateway_responses.body(response_type)},
                # The stage's security and CORS headers, as the functions send them, and
                # the problem's own (401s name the auth scheme, as the local gateway does).
                response_headers={
                    name: mapping_expression(value)
                    for name, value in gateway_responses.headers(response_type, self.stage).items()
                },
            )


def mapping_expression(value: gateway_responses.HeaderValue) -> str:
    """A gateway response header as API Gateway takes it: a static value, quoted (API
    Gateway reads to the last quote, so the CSP's own quotes need no escape), or a request
    header mapping."""
    if isinstance(value, gateway_responses.FromRequest):
        return f"method.request.header.{value.header}"
    return f"'{value}'"


def _method_throttles() -> dict[str, apigateway.MethodDeploymentOptions]:
    """Per-method limits, tighter than the stage's, for routes the topology throttles."""
    return {
        f"{route.path}/{route.method}": apigateway.MethodDeploymentOptions(
            throttling_rate_limit=route.throttle[0],
            throttling_burst_limit=route.throttle[1],
            # A method's settings replace the stage-wide ones: keep its metrics on.
            metrics_enabled=True,
        )
        for route in topology.ROUTES
        if route.throttle
    }


def _why_public(route: topology.Route) -> str:
    where = f"{route.method} {route.path}"
    if route.method in ("GET", "HEAD"):
        return f"{where} is a public read."
    if route.throttle:
        rate, burst = route.throttle
        return (
            f"{where} serves callers who hold no token yet (sign-up, confirmation, sign-in, "
            f"refresh, password reset), limited to {rate}/s (burst {burst}) on this method."
        )
    return f"{where} is public by the topology's access rule."


def _acknowledge_public(method: apigateway.Method, why: str) -> None:
    base.acknowledge(
        method,
        "AwsSolutions-APIG4",
        f"Deliberately unauthenticated: {why} Access rules come from catalog/http/routes.py.",
    )
    base.acknowledge(
        method,
        "AwsSolutions-COG4",
        f"Deliberately without a Cognito authorizer: {why}",
    )
