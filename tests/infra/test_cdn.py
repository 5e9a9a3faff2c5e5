"""The edge cache in front of the API (infra/stack/cdn.py), as the dev and prod templates
describe it: what it keys on, that signed-in requests are never served from it, that the
API's Cache-Control decides how long a public answer stays, and the WAF's view through it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Match

from infra.stack.cdn import MAX_TTL_S, ORIGIN_VERIFY_HEADER, VIEWER_IP_HEADER
from infra.stages import stage as stage_config

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]
STAGES = ["dev", "prod"]
# CloudFront's managed origin request policy AllViewerExceptHostHeader: every viewer header
# but Host (API Gateway routes on its own), every query string and cookie. CloudFront never
# lets an origin request policy forward Authorization: only the cache key does.
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def only(synth: Any, cfn_type: str) -> tuple[str, dict[str, Any]]:
    (item,) = synth.of_type(cfn_type).items()
    return item


def api_distribution(synth: Any) -> tuple[str, dict[str, Any]]:
    """The distribution whose origin is the REST API (the other serves image renditions)."""
    (found,) = [
        (logical_id, resource["Properties"]["DistributionConfig"])
        for logical_id, resource in synth.of_type("AWS::CloudFront::Distribution").items()
        if "execute-api" in json.dumps(resource["Properties"]["DistributionConfig"]["Origins"])
    ]
    return found


@pytest.mark.parametrize("name", STAGES)
def test_the_stage_turns_the_edge_cache_on(synth_stage: Callable[[str], Any], name: str) -> None:
    synth = synth_stage(name)
    assert stage_config(name).edge_cache
    # The API's distribution exists, and its URL is an output
    api_distribution(synth)
    assert "CdnUrl" in synth.json["Outputs"]


@pytest.mark.parametrize("name", STAGES)
def test_the_cache_key_is_the_query_string_the_origin_and_the_token(
    synth_stage: Callable[[str], Any], name: str
) -> None:
    synth = synth_stage(name)
    # The cache policy keys on every query string, Origin and Authorization; no cookies
    synth.template.has_resource_properties(
        "AWS::CloudFront::CachePolicy",
        {
            "CachePolicyConfig": Match.object_like(
                {
                    "ParametersInCacheKeyAndForwardedToOrigin": Match.object_like(
                        {
                            "QueryStringsConfig": {"QueryStringBehavior": "all"},
                            "HeadersConfig": {
                                "HeaderBehavior": "whitelist",
                                "Headers": ["Authorization", "Origin"],
                            },
                            "CookiesConfig": {"CookieBehavior": "none"},
                        }
                    )
                }
            )
        },
    )


@pytest.mark.parametrize("name", STAGES)
def test_the_api_s_cache_control_decides_within_a_bounded_ttl(
    synth_stage: Callable[[str], Any], name: str
) -> None:
    synth = synth_stage(name)
    policy_id, policy = only(synth, "AWS::CloudFront::CachePolicy")
    config = policy["Properties"]["CachePolicyConfig"]
    # Minimum 0: an answer's no-store, private or no-cache is obeyed; default 0: an answer
    # that says nothing is not stored; maximum bounded: max-age beyond it is cut to it
    assert (config["MinTTL"], config["DefaultTTL"]) == (0, 0)
    assert config["MaxTTL"] == MAX_TTL_S
    assert 60 <= MAX_TTL_S <= 3600  # the API's public max-ages (10 and 60 s) fit under it
    # And it is the policy of the API's behaviour
    _, distribution = api_distribution(synth)
    assert distribution["DefaultCacheBehavior"]["CachePolicyId"] == {"Ref": policy_id}


@pytest.mark.parametrize("name", STAGES)
def test_signed_in_requests_are_never_served_from_the_cache(
    synth_stage: Callable[[str], Any], name: str
) -> None:
    synth = synth_stage(name)
    _, distribution = api_distribution(synth)
    behaviour = distribution["DefaultCacheBehavior"]
    _, policy = only(synth, "AWS::CloudFront::CachePolicy")
    config = policy["Properties"]["CachePolicyConfig"]
    key = config["ParametersInCacheKeyAndForwardedToOrigin"]
    # A token is part of the key: an anonymous entry is never an answer to a signed-in
    # request, nor one token's entry to another's
    assert "Authorization" in key["HeadersConfig"]["Headers"]
    # And no signed-in answer is stored at all: the API marks each no-store (unit-tested in
    # tests/unit/test_http.py), which a minimum TTL of 0 obeys
    assert config["MinTTL"] == 0
    # Only GET and HEAD are cached; writes pass through
    assert behaviour["CachedMethods"] == ["GET", "HEAD"]
    assert set(behaviour["AllowedMethods"]) >= {"POST", "PATCH", "DELETE", "OPTIONS"}
    # The origin request policy is the managed one, and no custom one names Authorization
    assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
    for resource in synth.of_type("AWS::CloudFront::OriginRequestPolicy").values():
        assert "authorization" not in json.dumps(resource).lower()


@pytest.mark.parametrize("name", STAGES)
def test_the_origin_is_the_api_stage_over_https_with_the_origin_secret(
    synth_stage: Callable[[str], Any], name: str
) -> None:
    synth = synth_stage(name)
    _, distribution = api_distribution(synth)
    (origin,) = distribution["Origins"]
    (stage_id,) = synth.of_type("AWS::ApiGateway::Stage")
    secret_id, _ = only_cdn_secret(synth)
    # The API's stage, over HTTPS only, viewers too
    assert stage_id in json.dumps(origin["OriginPath"])
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert distribution["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "https-only"
    # With the origin secret header, resolved from the generated secret at deploy
    (header,) = origin["OriginCustomHeaders"]
    assert header["HeaderName"] == ORIGIN_VERIFY_HEADER
    assert "{{resolve:secretsmanager:" in json.dumps(header["HeaderValue"])
    assert secret_id in json.dumps(header["HeaderValue"])


def only_cdn_secret(synth: Any) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (logical_id, resource)
        for logical_id, resource in synth.of_type("AWS::SecretsManager::Secret").items()
        if logical_id.startswith("CdnOriginSecret")
    ]
    return found


@pytest.mark.parametrize("name", STAGES)
def test_the_waf_limits_cdn_requests_by_the_viewer_address(
    synth_stage: Callable[[str], Any], name: str
) -> None:
    synth = synth_stage(name)
    _, distribution = api_distribution(synth)
    (association,) = distribution["DefaultCacheBehavior"]["FunctionAssociations"]
    function_id = association["FunctionARN"]["Fn::GetAtt"][0]
    code = synth.resources[function_id]["Properties"]["FunctionCode"]
    secret_id, _ = only_cdn_secret(synth)
    # A viewer-request function overwrites the viewer-address header with CloudFront's own
    assert association["EventType"] == "viewer-request"
    assert (
        f"event.request.headers['{VIEWER_IP_HEADER.lower()}'] = {{ value: event.viewer.ip }}"
        in (code)
    )
    # And the web ACL counts requests carrying the secret by that address, the others by
    # their source address, with the same limits
    acl = only(synth, "AWS::WAFv2::WebACL")[1]["Properties"]
    rules = {rule["Name"]: rule["Statement"]["RateBasedStatement"] for rule in acl["Rules"][:4]}
    config = stage_config(name)
    for direct, via_cdn, limit in (
        ("AuthRateLimit", "AuthRateLimitViaCdn", config.waf_auth_rate_limit),
        ("RateLimit", "RateLimitViaCdn", config.waf_rate_limit),
    ):
        assert (rules[direct]["AggregateKeyType"], rules[direct]["Limit"]) == ("IP", limit)
        assert (rules[via_cdn]["AggregateKeyType"], rules[via_cdn]["Limit"]) == (
            "FORWARDED_IP",
            limit,
        )
        assert rules[via_cdn]["ForwardedIPConfig"]["HeaderName"] == VIEWER_IP_HEADER
        direct_scope = json.dumps(rules[direct]["ScopeDownStatement"])
        cdn_scope = json.dumps(rules[via_cdn]["ScopeDownStatement"])
        assert secret_id in direct_scope and secret_id in cdn_scope
        assert "NotStatement" in direct_scope and "NotStatement" not in cdn_scope
    # And WAF's logs never show the secret
    _, logging = only(synth, "AWS::WAFv2::LoggingConfiguration")
    redacted = [f["SingleHeader"]["Name"] for f in logging["Properties"]["RedactedFields"]]
    assert ORIGIN_VERIFY_HEADER.lower() in redacted
