"""Identity in the stack: the Cognito user pool, its groups and client, and who the API lets in.

Route expectations are generated from `infra.topology`, so a new route is checked as soon as
it is declared there.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra import topology
from infra.stack import PASSWORD_MIN_LENGTH
from infra.stages import stage as stage_config

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

PROTECTED = [r for r in topology.ROUTES if not r.access.public]
PUBLIC = [r for r in topology.ROUTES if r.access.public]
THROTTLED = [r for r in topology.ROUTES if r.throttle]
COGNITO_VARIABLES = (
    "COGNITO_USER_POOL_ID",
    "COGNITO_CLIENT_ID",
    "COGNITO_ISSUER",
    "COGNITO_JWKS_URL",
)


def route_id(route: topology.Route) -> str:
    return f"{route.method} {route.path}"


def only(synth: Any, cfn_type: str) -> tuple[str, dict[str, Any]]:
    (item,) = synth.of_type(cfn_type).items()
    return item


def pool(synth: Any) -> dict[str, Any]:
    return only(synth, "AWS::Cognito::UserPool")[1]


def test_the_topology_has_public_protected_and_throttled_routes() -> None:
    # Guards the parametrized tests below against silently testing nothing.
    assert PROTECTED and PUBLIC and THROTTLED


# --- the user pool -------------------------------------------------------------------------


def test_users_sign_in_with_their_email_and_may_sign_themselves_up(dev: Any) -> None:
    props = pool(dev)["Properties"]
    assert props["UsernameAttributes"] == ["email"]
    assert props.get("AliasAttributes") is None
    assert props["UsernameConfiguration"] == {"CaseSensitive": False}
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    schema = {attribute["Name"]: attribute for attribute in props["Schema"]}
    assert schema["email"]["Required"] is True
    assert schema["name"]["Mutable"] is True
    assert set(schema) == {"email", "name"}


def test_passwords_are_long_and_mixed(dev: Any) -> None:
    policy = pool(dev)["Properties"]["Policies"]["PasswordPolicy"]
    assert PASSWORD_MIN_LENGTH >= 12
    assert policy["MinimumLength"] == PASSWORD_MIN_LENGTH
    for requirement in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"):
        assert policy[requirement] is True, requirement


def test_email_is_verified_and_is_the_only_way_to_recover(dev: Any) -> None:
    props = pool(dev)["Properties"]
    assert props["AutoVerifiedAttributes"] == ["email"]
    assert props["AccountRecoverySetting"] == {
        "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
    }
    # A new address only replaces the verified one once its code is confirmed.
    assert props["UserAttributeUpdateSettings"] == {
        "AttributesRequireVerificationBeforeUpdate": ["email"]
    }


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_threat_protection_only_where_the_stage_asks_for_it(synth_stage: Any, name: str) -> None:
    # Given the stage setting (prod only), When synthesized
    props = pool(synth_stage(name))["Properties"]
    # Then the Plus plan enforces threat protection there, and Essentials costs less elsewhere
    if stage_config(name).threat_protection:
        assert props["UserPoolTier"] == "PLUS"
        assert props["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    else:
        assert props["UserPoolTier"] == "ESSENTIALS"
        assert "UserPoolAddOns" not in props
    assert stage_config("prod").threat_protection and not stage_config("dev").threat_protection


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_the_pool_is_retained_and_protected_where_data_is(synth_stage: Any, name: str) -> None:
    resource = pool(synth_stage(name))
    retained = stage_config(name).retain_data
    assert resource["DeletionPolicy"] == ("Retain" if retained else "Delete")
    assert resource["Properties"]["DeletionProtection"] == ("ACTIVE" if retained else "INACTIVE")


def test_each_role_is_a_group_and_admin_takes_precedence(dev: Any) -> None:
    pool_id, _ = only(dev, "AWS::Cognito::UserPool")
    groups = {
        g["Properties"]["GroupName"]: g["Properties"]
        for g in dev.of_type("AWS::Cognito::UserPoolGroup").values()
    }
    assert set(groups) == set(topology.USER_POOL.groups) == set(topology.ROLES)
    assert all(g["UserPoolId"] == {"Ref": pool_id} for g in groups.values())
    # Lower precedence wins: the strongest role first, each role a distinct rank.
    ranked = sorted(groups, key=lambda name: groups[name]["Precedence"])
    assert ranked == list(reversed(topology.ROLES))
    assert ranked[0] == "admin"
    assert topology.USER_POOL.default_group in groups


def test_the_api_client_signs_in_with_passwords_srp_and_refresh_tokens(dev: Any) -> None:
    pool_id, _ = only(dev, "AWS::Cognito::UserPool")
    _, client = only(dev, "AWS::Cognito::UserPoolClient")
    props = client["Properties"]
    assert props["UserPoolId"] == {"Ref": pool_id}
    assert props["GenerateSecret"] is False
    assert set(props["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    assert props["EnableTokenRevocation"] is True
    # No hosted UI: no OAuth grants (CDK would otherwise enable code and implicit flows).
    assert props["AllowedOAuthFlowsUserPoolClient"] is False
    assert "AllowedOAuthFlows" not in props
    units = props["TokenValidityUnits"]
    assert (props["AccessTokenValidity"], units["AccessToken"]) == (60, "minutes")
    assert (props["IdTokenValidity"], units["IdToken"]) == (60, "minutes")
    assert (props["RefreshTokenValidity"], units["RefreshToken"]) == (30 * 24 * 60, "minutes")
    # Sign-up writes email and name; the client may change nothing else.
    assert set(props["WriteAttributes"]) == {"email", "name"}


# --- the API's authorizer --------------------------------------------------------------------


def authorizer_id(synth: Any) -> str:
    logical_id, authorizer = only(synth, "AWS::ApiGateway::Authorizer")
    pool_id, _ = only(synth, "AWS::Cognito::UserPool")
    props = authorizer["Properties"]
    assert props["Type"] == "COGNITO_USER_POOLS"
    assert props["ProviderARNs"] == [{"Fn::GetAtt": [pool_id, "Arn"]}]
    assert props["IdentitySource"] == "method.request.header.Authorization"
    return logical_id


def test_one_cognito_authorizer_on_the_pool(dev: Any) -> None:
    assert authorizer_id(dev)


@pytest.mark.parametrize("route", PROTECTED, ids=route_id)
def test_protected_routes_need_an_access_token_of_the_pool(dev: Any, route: Any) -> None:
    # Given a route the topology restricts to signed-in roles
    props = dev.methods_by_route()[(route.method, route.path)]["Properties"]
    # Then API Gateway checks the token with the Cognito authorizer, asking for the scope
    # only access tokens carry (so id tokens are refused)
    assert props["AuthorizationType"] == "COGNITO_USER_POOLS"
    assert props["AuthorizerId"] == {"Ref": authorizer_id(dev)}
    assert props["AuthorizationScopes"] == [topology.USER_POOL.access_scope]


@pytest.mark.parametrize("route", PUBLIC, ids=route_id)
def test_public_routes_need_no_token(dev: Any, route: Any) -> None:
    props = dev.methods_by_route()[(route.method, route.path)]["Properties"]
    assert props["AuthorizationType"] == "NONE"
    assert "AuthorizerId" not in props
    assert "AuthorizationScopes" not in props


@pytest.mark.parametrize("path", topology.paths())
def test_any_fallbacks_need_no_token(dev: Any, path: str) -> None:
    # They only reach the function's 405 and CORS preflight answers.
    props = dev.methods_by_route()[("ANY", path)]["Properties"]
    assert props["AuthorizationType"] == "NONE"
    assert "AuthorizerId" not in props


def test_no_method_uses_iam_auth_any_more(dev: Any) -> None:
    kinds = {
        m["Properties"]["AuthorizationType"]
        for m in dev.of_type("AWS::ApiGateway::Method").values()
    }
    assert kinds == {"NONE", "COGNITO_USER_POOLS"}


# --- throttling ------------------------------------------------------------------------------


def method_settings(synth: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """(HTTP method, path) -> the stage's settings for it; ("*", "/*") is the stage default."""
    (stage,) = synth.of_type("AWS::ApiGateway::Stage").values()
    settings = {}
    for setting in stage["Properties"]["MethodSettings"]:
        # API Gateway escapes "/" in a resource path as "~1": "/~1v1~1auth~1login".
        path = setting["ResourcePath"].replace("~1", "/")
        settings[(setting["HttpMethod"], "/*" if path == "/*" else path[1:])] = setting
    return settings


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_throttled_routes_have_their_own_tighter_limits(synth_stage: Any, name: str) -> None:
    settings = method_settings(synth_stage(name))
    stage = stage_config(name)
    for route in THROTTLED:
        assert route.throttle is not None
        rate, burst = route.throttle
        setting = settings[(route.method, route.path)]
        assert (setting["ThrottlingRateLimit"], setting["ThrottlingBurstLimit"]) == (rate, burst)
        assert rate <= stage.throttle_rate and burst <= stage.throttle_burst
        assert setting["MetricsEnabled"] is True
    # Exactly those routes, plus the stage-wide default
    assert set(settings) == {("*", "/*")} | {(r.method, r.path) for r in THROTTLED}


# --- what functions are told -----------------------------------------------------------------


@pytest.mark.parametrize("spec", topology.FUNCTIONS.values(), ids=lambda f: f.name)
def test_every_function_knows_the_pool_client_issuer_and_keys(dev: Any, spec: Any) -> None:
    pool_id, _ = only(dev, "AWS::Cognito::UserPool")
    client_id, _ = only(dev, "AWS::Cognito::UserPoolClient")
    variables = dev.function(spec.name)["Properties"]["Environment"]["Variables"]
    assert set(COGNITO_VARIABLES) <= set(variables)
    assert variables["COGNITO_USER_POOL_ID"] == {"Ref": pool_id}
    assert variables["COGNITO_CLIENT_ID"] == {"Ref": client_id}
    issuer = [
        "https://cognito-idp.",
        {"Ref": "AWS::Region"},
        ".",
        {"Ref": "AWS::URLSuffix"},
        "/",
        {"Ref": pool_id},
    ]
    assert variables["COGNITO_ISSUER"] == {"Fn::Join": ["", issuer]}
    assert variables["COGNITO_JWKS_URL"] == {"Fn::Join": ["", [*issuer, "/.well-known/jwks.json"]]}
    assert variables["COGNITO_ACCESS_SCOPE"] == topology.USER_POOL.access_scope


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_functions_learn_whether_the_stage_auto_confirms(synth_stage: Any, name: str) -> None:
    expected = "true" if stage_config(name).auto_confirm_users else "false"
    synth = synth_stage(name)
    for spec in topology.FUNCTIONS.values():
        variables = synth.function(spec.name)["Properties"]["Environment"]["Variables"]
        assert variables["AUTO_CONFIRM_USERS"] == expected, spec.name
