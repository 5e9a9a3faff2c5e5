"""The WAF in front of the API, in dev and prod: rules, answers, logs, association, alarm."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from infra import gateway_responses
from infra.stack.edge import MANAGED_GROUPS, RATE_LIMITED_BODY
from infra.stages import stage as stage_config

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]
STAGES = ["dev", "prod"]


def only(synth: Any, cfn_type: str) -> tuple[str, dict[str, Any]]:
    (item,) = synth.of_type(cfn_type).items()
    return item


def rules(synth: Any) -> dict[str, dict[str, Any]]:
    acl = only(synth, "AWS::WAFv2::WebACL")[1]["Properties"]
    return {rule["Name"]: rule for rule in acl["Rules"]}


@pytest.mark.parametrize("name", STAGES)
def test_the_web_acl_guards_the_api_stage(synth_stage: Callable[[str], Any], name: str) -> None:
    synth = synth_stage(name)
    acl_id, acl = only(synth, "AWS::WAFv2::WebACL")
    _, association = only(synth, "AWS::WAFv2::WebACLAssociation")
    (stage_id,) = synth.of_type("AWS::ApiGateway::Stage")
    # The ACL is regional, allows by default, and is associated with the API's stage
    assert acl["Properties"]["Scope"] == "REGIONAL"
    assert acl["Properties"]["DefaultAction"] == {"Allow": {}}
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    assert stage_id in json.dumps(association["Properties"]["ResourceArn"])


@pytest.mark.parametrize("name", STAGES)
def test_rate_rules_limit_each_address_with_the_stage_s_limits(
    synth_stage: Callable[[str], Any], name: str
) -> None:
    found, config = rules(synth_stage(name)), stage_config(name)
    auth, everything = found["AuthRateLimit"], found["RateLimit"]
    # The auth routes' rules come first and are the stricter
    assert (
        auth["Priority"]
        < everything["Priority"]
        < min(found[group]["Priority"] for group, _ in MANAGED_GROUPS)
    )
    if config.edge_cache:
        assert (
            found["AuthRateLimitViaCdn"]["Priority"]
            < found["RateLimitViaCdn"]["Priority"]
            < min(found[group]["Priority"] for group, _ in MANAGED_GROUPS)
        )
    for rule, limit in ((auth, config.waf_auth_rate_limit), (everything, config.waf_rate_limit)):
        statement = rule["Statement"]["RateBasedStatement"]
        assert (statement["AggregateKeyType"], statement["Limit"]) == ("IP", limit)
        assert statement["EvaluationWindowSec"] == 300
    assert config.waf_auth_rate_limit < config.waf_rate_limit
    auth_scope = auth["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    if config.edge_cache:  # and not through the edge cache (tests/infra/test_cdn.py)
        auth_scope = auth_scope["AndStatement"]["Statements"][0]
    scope = auth_scope["ByteMatchStatement"]
    assert (scope["SearchString"], scope["PositionalConstraint"]) == ("/v1/auth/", "CONTAINS")
    assert scope["FieldToMatch"] == {"UriPath": {}}
    everything_scope = everything["Statement"]["RateBasedStatement"].get("ScopeDownStatement")
    assert everything_scope is None or set(everything_scope) == {"NotStatement"}


@pytest.mark.parametrize("name", STAGES)
def test_a_rate_limited_client_gets_a_429_problem_with_retry_after(
    synth_stage: Callable[[str], Any], name: str
) -> None:
    synth = synth_stage(name)
    acl = only(synth, "AWS::WAFv2::WebACL")[1]["Properties"]
    body = acl["CustomResponseBodies"][RATE_LIMITED_BODY]
    problem = json.loads(body["Content"])
    # The body is a problem document with the stable type
    assert body["ContentType"] == "APPLICATION_JSON"
    assert problem["type"] == "urn:catalog:problem:too-many-requests"
    assert problem["status"] == 429
    for rule_name in [name for name in rules(synth) if "RateLimit" in name]:
        response = rules(synth)[rule_name]["Action"]["Block"]["CustomResponse"]
        headers = {h["Name"]: h["Value"] for h in response["ResponseHeaders"]}
        # 429, Retry-After, and the stage's security and CORS headers (static ones)
        assert (response["ResponseCode"], response["CustomResponseBodyKey"]) == (
            429,
            RATE_LIMITED_BODY,
        )
        assert headers["Retry-After"] == "60"
        expected = gateway_responses.static_headers(
            gateway_responses.WAF_RATE_LIMITED, stage_config(name)
        )
        assert headers == {k: v for k, v in expected.items() if k != "Content-Type"}
        assert "Access-Control-Allow-Origin" in headers


@pytest.mark.parametrize("name", STAGES)
def test_managed_groups_block_with_the_gateway_s_waf_response(
    synth_stage: Callable[[str], Any], name: str
) -> None:
    synth = synth_stage(name)
    found = rules(synth)
    for group, counted in MANAGED_GROUPS:
        statement = found[group]["Statement"]["ManagedRuleGroupStatement"]
        assert (statement["VendorName"], statement["Name"]) == ("AWS", group)
        assert found[group]["OverrideAction"] == {"None": {}}
        overrides = {o["Name"]: o["ActionToUse"] for o in statement.get("RuleActionOverrides", [])}
        assert overrides == {rule: {"Count": {}} for rule in counted}
    # Batch bodies exceed the common rule set's 8 KB: that one rule only counts
    assert "SizeRestrictions_BODY" in dict(MANAGED_GROUPS)["AWSManagedRulesCommonRuleSet"]
    # What the groups block is answered by the WAF_FILTERED gateway response: problem+json
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in synth.of_type("AWS::ApiGateway::GatewayResponse").values()
    }
    assert responses["WAF_FILTERED"]["StatusCode"] == "403"
    assert (
        responses["WAF_FILTERED"]["ResponseParameters"]["gatewayresponse.header.Content-Type"]
        == "'application/problem+json'"
    )


@pytest.mark.parametrize("name", STAGES)
def test_waf_logs_go_to_a_waf_group_without_the_authorization_header(
    synth_stage: Callable[[str], Any], name: str
) -> None:
    synth = synth_stage(name)
    _, logging = only(synth, "AWS::WAFv2::LoggingConfiguration")
    groups = {
        r["Properties"].get("LogGroupName"): r
        for r in synth.of_type("AWS::Logs::LogGroup").values()
    }
    group_name = f"aws-waf-logs-catalog-{name}"
    assert group_name in groups
    assert group_name in json.dumps(logging["Properties"]["LogDestinationConfigs"])
    redacted = logging["Properties"]["RedactedFields"]
    assert {"SingleHeader": {"Name": "authorization"}} in redacted


@pytest.mark.parametrize("name", STAGES)
def test_a_spike_of_blocked_requests_raises_an_alarm(
    synth_stage: Callable[[str], Any], name: str
) -> None:
    alarms = [
        a["Properties"]
        for a in synth_stage(name).of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/WAFV2"
    ]
    (alarm,) = alarms
    assert alarm["MetricName"] == "BlockedRequests"
    assert alarm["Threshold"] == stage_config(name).waf_blocked_alarm
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert dimensions["WebACL"] == f"catalog-{name}-api"
