"""The API's edge protection: a WAF web ACL on the stage, its logs and its alarm.

Rules, in the order WAF evaluates them:

1. `AuthRateLimit`: at most `waf_auth_rate_limit` requests per client IP per 5 minutes to
   `/v1/auth/*` (sign-in, sign-up, refresh, password reset: where guessing happens).
2. `RateLimit`: at most `waf_rate_limit` requests per client IP per 5 minutes to anything.
   With the stage's edge cache (infra/stack/cdn.py) both count requests that do not come
   through CloudFront, and `AuthRateLimitViaCdn` and `RateLimitViaCdn` (the same limits)
   count those that do (they carry the origin secret header) by the viewer's address
   CloudFront wrote, since their source address is CloudFront's.
3. AWS managed groups: `AmazonIpReputationList` (addresses AWS threat intelligence saw
   attacking: bots, scanners), `KnownBadInputsRuleSet` (request patterns of known exploits:
   Log4j lookups, Java deserialization, `localhost` hosts), `CommonRuleSet` (the OWASP core:
   path traversal, XSS and SQL-injection signatures, oversized URIs and headers). Its
   `SizeRestrictions_BODY` rule (bodies over 8 KB) only counts: a batch of 100 products is
   larger, and the functions refuse bodies over 1 MiB themselves.

Answers: the rate rules answer 429 with a problem document and `Retry-After` (a WAF custom
response; WAF can label such a body only `application/json`); the managed groups' blocks are
API Gateway's WAF_FILTERED gateway response, the same 403 problem+json as every other
gateway answer. Logs go to an `aws-waf-logs-` group with the `authorization` header
redacted.
"""

from __future__ import annotations

import json

from aws_cdk import (
    ArnFormat,
    Duration,
    Stack,
    aws_apigateway as apigateway,
    aws_cloudwatch as cloudwatch,
    aws_logs as logs,
    aws_wafv2 as wafv2,
)
from constructs import Construct

from infra import gateway_responses
from infra.stack.base import Concern
from infra.stack.cdn import ORIGIN_VERIFY_HEADER, VIEWER_IP_HEADER, Cdn
from infra.stages import Stage

WINDOW_S = 300  # the rate rules' evaluation window
MANAGED_GROUPS = (
    # (name, rules of the group that only count instead of blocking)
    ("AWSManagedRulesAmazonIpReputationList", ()),
    ("AWSManagedRulesKnownBadInputsRuleSet", ()),
    ("AWSManagedRulesCommonRuleSet", ("SizeRestrictions_BODY",)),
)
RATE_LIMITED_BODY = "rate-limited"
# Headers WAF logs never show: the caller's token, and the edge cache's origin secret.
REDACTED_HEADERS = ("authorization", ORIGIN_VERIFY_HEADER.lower())


class Edge(Concern):
    """Exposes `web_acl`, `logs` and `blocked_alarm`; needs the API's deployment stage."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        api_stage: apigateway.Stage,
        cdn: Cdn | None = None,
    ) -> None:
        super().__init__(scope, construct_id, stage=stage)
        self.cdn = cdn
        self.web_acl = self._build_web_acl()
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=api_stage.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )
        self.logs = self._build_logs()
        self.blocked_alarm = self._build_blocked_alarm()

    def _build_web_acl(self) -> wafv2.CfnWebACL:
        auth, everything = self.stage.waf_auth_rate_limit, self.stage.waf_rate_limit
        rules = [
            self._rate_rule("AuthRateLimit", 0, auth, "/v1/auth/", via_cdn=False),
            self._rate_rule("RateLimit", 1, everything, None, via_cdn=False),
        ]
        if self.cdn is not None:
            rules += [
                self._rate_rule("AuthRateLimitViaCdn", 2, auth, "/v1/auth/", via_cdn=True),
                self._rate_rule("RateLimitViaCdn", 3, everything, None, via_cdn=True),
            ]
        first = len(rules)
        rules += [
            _managed_rule(name, first + i, counted)
            for i, (name, counted) in enumerate(MANAGED_GROUPS)
        ]
        error = gateway_responses.WAF_RATE_LIMITED
        return wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"catalog-{self.stage.name}-api",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=rules,
            custom_response_bodies={
                RATE_LIMITED_BODY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON",
                    content=json.dumps(error.to_problem(), separators=(",", ":")),
                )
            },
            visibility_config=_visibility(f"catalog-{self.stage.name}-api"),
        )

    def _rate_rule(
        self, name: str, priority: int, limit: int, path_prefix: str | None, *, via_cdn: bool
    ) -> wafv2.CfnWebACL.RuleProperty:
        """A per-client rate rule: by source address, or (`via_cdn`) by the viewer address
        CloudFront wrote, for requests carrying the origin secret (only with a CDN)."""
        scopes = []
        if path_prefix is not None:
            # The path WAF sees carries the stage (/dev/v1/auth/...) on the execute-api URL and
            # not on a custom domain: match the API's own path anywhere, percent-decoded.
            scopes.append(
                wafv2.CfnWebACL.StatementProperty(
                    byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                        field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                        positional_constraint="CONTAINS",
                        search_string=path_prefix,
                        text_transformations=[
                            wafv2.CfnWebACL.TextTransformationProperty(
                                priority=0, type="URL_DECODE"
                            )
                        ],
                    )
                )
            )
        if self.cdn is not None:
            through_cdn = self._through_cdn()
            scopes.append(
                through_cdn
                if via_cdn
                else wafv2.CfnWebACL.StatementProperty(
                    not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=through_cdn)
                )
            )
        scope_down = (
            None
            if not scopes
            else scopes[0]
            if len(scopes) == 1
            else wafv2.CfnWebACL.StatementProperty(
                and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=scopes)
            )
        )
        headers = gateway_responses.static_headers(gateway_responses.WAF_RATE_LIMITED, self.stage)
        return wafv2.CfnWebACL.RuleProperty(
            name=name,
            priority=priority,
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    aggregate_key_type="FORWARDED_IP" if via_cdn else "IP",
                    # Present on every request through CloudFront (its function writes it);
                    # a request without a valid one is counted as one client.
                    forwarded_ip_config=wafv2.CfnWebACL.ForwardedIPConfigurationProperty(
                        header_name=VIEWER_IP_HEADER, fallback_behavior="MATCH"
                    )
                    if via_cdn
                    else None,
                    limit=limit,
                    evaluation_window_sec=WINDOW_S,
                    scope_down_statement=scope_down,
                )
            ),
            action=wafv2.CfnWebACL.RuleActionProperty(
                block=wafv2.CfnWebACL.BlockActionProperty(
                    custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                        response_code=429,
                        custom_response_body_key=RATE_LIMITED_BODY,
                        # Content-Type is WAF's own (the body's content type above).
                        response_headers=[
                            wafv2.CfnWebACL.CustomHTTPHeaderProperty(name=k, value=v)
                            for k, v in headers.items()
                            if k != "Content-Type"
                        ],
                    )
                )
            ),
            visibility_config=_visibility(f"catalog-{self.stage.name}-{name}"),
        )

    def _through_cdn(self) -> wafv2.CfnWebACL.StatementProperty:
        """Whether a request came through the stage's CloudFront: it carries the origin
        secret, which only the distribution adds."""
        assert self.cdn is not None
        return wafv2.CfnWebACL.StatementProperty(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                    single_header={"Name": ORIGIN_VERIFY_HEADER.lower()}
                ),
                positional_constraint="EXACTLY",
                search_string=self.cdn.origin_secret_value,
                text_transformations=[
                    wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
                ],
            )
        )

    def _build_logs(self) -> logs.LogGroup:
        name = f"aws-waf-logs-catalog-{self.stage.name}"  # WAF requires the prefix
        group = logs.LogGroup(
            self,
            "WafLogs",
            log_group_name=name,
            retention=self.log_retention,
            removal_policy=self.removal,
        )
        wafv2.CfnLoggingConfiguration(
            self,
            "WafLogging",
            resource_arn=self.web_acl.attr_arn,
            # The group's ARN without the `:*` suffix, as WAF asks for it.
            log_destination_configs=[
                Stack.of(self).format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
                for header in REDACTED_HEADERS
            ],
        ).node.add_dependency(group)
        return group

    def _build_blocked_alarm(self) -> cloudwatch.Alarm:
        """A spike of blocked requests: an attack, or a rule blocking real clients."""
        blocked = cloudwatch.Metric(
            namespace="AWS/WAFV2",
            metric_name="BlockedRequests",
            dimensions_map={
                "WebACL": f"catalog-{self.stage.name}-api",
                "Region": Stack.of(self).region,
                "Rule": "ALL",
            },
            period=Duration.minutes(5),
            statistic="Sum",
        )
        return cloudwatch.Alarm(
            self,
            "WafBlockedAlarm",
            alarm_description=(
                f"catalog {self.stage.name}: WAF blocked over {self.stage.waf_blocked_alarm} "
                "requests in 5 minutes"
            ),
            metric=blocked,
            threshold=self.stage.waf_blocked_alarm,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )


def _managed_rule(
    name: str, priority: int, counted: tuple[str, ...]
) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS",
                name=name,
                rule_action_overrides=[
                    wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                    )
                    for rule in counted
                ]
                or None,
            )
        ),
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        visibility_config=_visibility(name),
    )


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )
