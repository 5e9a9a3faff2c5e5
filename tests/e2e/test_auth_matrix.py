"""Every route x every kind of caller, generated from the topology's access rules.

A new route is covered without a new test: its expected outcomes follow from its `access`.
"Allowed" means the request got past authentication and authorization (not 401/403) and
did not fail (not 5xx); what it then answers (200, 404, 422...) is the route's business.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
import requests

from infra import topology
from infra.local.demo_users import DEMO_USERS, demo_password, login
from infra.stages import stage as stage_config
from tests.conftest import product_payload
from tests.users import PASSWORD, User, demo_user, new_user

ALLOWED = "allowed"
KINDS = (
    "anonymous",
    "malformed-token",
    "bad-signature",
    "expired",
    "other-app-client",
    "viewer",
    "editor-owner",
    "editor-not-owner",
    "admin",
    # Tokens issued before an admin or the user changed their access (still validly signed)
    "disabled-user",
    "deleted-user",
    "signed-out-user",
    "demoted-editor",
)
ROLE_OF = {
    "viewer": "viewer",
    "editor-owner": "editor",
    "editor-not-owner": "editor",
    "admin": "admin",
    "demoted-editor": "viewer",  # an editor's token, acting as the viewer they now are
}
REVOKED = ("disabled-user", "deleted-user", "signed-out-user")


def expected(route: topology.Route, kind: str) -> str | int:
    if kind in ("malformed-token", "bad-signature", "expired", "other-app-client", *REVOKED):
        return 401  # a bad credential is refused even where none is needed
    if kind == "anonymous":
        return ALLOWED if route.access.public else 401
    role = ROLE_OF[kind]
    if not route.access.allows(role):
        return 403
    if kind == "editor-not-owner" and role in route.access.own_only:
        return 403
    return ALLOWED


CASES = [(route, kind) for route in topology.ROUTES for kind in KINDS]


def _tamper_signature(token: str) -> str:
    head, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0xFF
    return ".".join([head, payload, base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()])


def _expired_token(local_system: Any, user: User) -> str:
    """A token moto's pool signs like any other, but whose expiry has passed."""
    from moto.cognitoidp.models import cognitoidp_backends

    refs = local_system.user_pool
    pool = cognitoidp_backends["123456789012"][local_system.region].user_pools[refs.pool_id]
    token, _ = pool.create_jwt(
        refs.client_id,
        user.email,
        "access",
        expires_in=-60,
        extra_data={"scope": topology.USER_POOL.access_scope, "cognito:groups": ["admin"]},
    )
    return str(token)


def _other_client_token(local_system: Any, email: str, password: str) -> str:
    cognito = boto3.client("cognito-idp", endpoint_url=local_system.aws_url)
    result = cognito.initiate_auth(
        ClientId=local_system.other_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return str(result["AuthenticationResult"]["AccessToken"])


LOGOUT = "/v1/auth/logout"


def _revoked_callers(local_system: Any) -> dict[str, Callable[[topology.Route], dict[str, str]]]:
    """An editor's token per way access is taken back, taken back after it was issued. The
    demoted editor may still sign out, which would revoke their token for every later case:
    the logout route gets a demoted editor of its own."""
    base = local_system.url
    admin = demo_user(base, "admin")
    kinds = (*REVOKED, "demoted-editor", "demoted-editor-for-logout")
    users = {kind: new_user(base, "editor", tag=kind) for kind in kinds}
    demote = ("PATCH", "/v1/users/{sub}", {"role": "viewer"}, admin)
    changes = {
        "disabled-user": ("PATCH", "/v1/users/{sub}", {"enabled": False}, admin),
        "deleted-user": ("DELETE", "/v1/users/{sub}", None, admin),
        "signed-out-user": ("POST", LOGOUT, None, users["signed-out-user"]),
        "demoted-editor": demote,
        "demoted-editor-for-logout": demote,
    }
    for kind, (method, path, body, by) in changes.items():
        url = base + path.format(sub=users[kind].sub)
        answer = requests.request(method, url, json=body, headers=by.headers, timeout=30)
        assert answer.status_code in (200, 204), answer.text
    # Every function instance that read their records before re-reads them within this bound
    time.sleep(stage_config("local").access_cache_s + 0.5)
    demoted, for_logout = users["demoted-editor"], users["demoted-editor-for-logout"]
    return {
        **{kind: (lambda route, user=users[kind]: user.headers) for kind in REVOKED},
        "demoted-editor": lambda route: (for_logout if route.path == LOGOUT else demoted).headers,
    }


@pytest.fixture(scope="module")
def callers(local_system: Any) -> dict[str, Callable[[topology.Route], dict[str, str]]]:
    """Each kind of caller as a function giving its headers for a route (fresh tokens where
    a call might revoke them: logout signs out every token of its caller, so it is called
    with a user of its own role, not a demo user other tests go on using)."""
    base = local_system.url
    other_editor = new_user(base, "editor", tag="editor2")

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def fresh(email: str, password: str, role: str) -> Callable[[topology.Route], dict[str, str]]:
        def headers(route: topology.Route) -> dict[str, str]:
            if route.path == LOGOUT:
                return new_user(base, role, tag=f"logout-{role}").headers
            return bearer(login(base, email, password))

        return headers

    viewer = demo_user(base, "viewer")
    revoked = _revoked_callers(local_system)
    return {
        "anonymous": lambda route: {},
        "malformed-token": lambda route: bearer("not-a-jwt"),
        "bad-signature": lambda route: bearer(_tamper_signature(viewer.token)),
        "expired": lambda route: bearer(_expired_token(local_system, demo_user(base, "admin"))),
        "other-app-client": lambda route: bearer(
            _other_client_token(local_system, DEMO_USERS["admin"], demo_password())
        ),
        "viewer": fresh(DEMO_USERS["viewer"], demo_password(), "viewer"),
        "editor-owner": fresh(DEMO_USERS["editor"], demo_password(), "editor"),
        "editor-not-owner": fresh(other_editor.email, PASSWORD, "editor"),
        "admin": fresh(DEMO_USERS["admin"], demo_password(), "admin"),
        **revoked,
    }


# A valid change per resource, so that ownership (checked once the body is valid) decides.
VALID_PATCH = {"/v1/products/{id}": {"stock": 1}, "/v1/webhooks/{id}": {"description": "m"}}
# The same for other methods with a body.
VALID_BODY = {
    ("POST", "/v1/products/{id}/images"): {"content_type": "image/png", "content_length": 100},
    ("POST", "/v1/imports"): {"format": "csv", "content_length": 100},
}
# An image id of the right shape that names no image: owners get 404, others 403 first.
ABSENT_IMAGE_ID = "01JC0000000000000000000000"


def _target_path(local_system: Any, route: topology.Route) -> str:
    """The route's path with its parameter bound to a fresh resource (products and exports:
    the demo editor's)."""
    if "{" not in route.path:
        return route.path
    base = local_system.url
    if route.path.startswith("/v1/products/"):
        editor = demo_user(base, "editor")
        response = requests.post(
            f"{base}/v1/products", json=product_payload(), headers=editor.headers, timeout=30
        )
        assert response.status_code == 201, response.text
        path = route.path.replace("{image_id}", ABSENT_IMAGE_ID)
        return path.replace("{id}", response.json()["id"])
    if route.path.startswith("/v1/users/"):
        return route.path.replace("{id}", new_user(base, tag="target").sub)
    if route.path.startswith("/v1/categories/"):
        admin = demo_user(base, "admin")
        slug = f"matrix-{uuid.uuid4().hex[:12]}"
        response = requests.post(
            f"{base}/v1/categories",
            json={"slug": slug, "name": "Matrix"},
            headers=admin.headers,
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return route.path.replace("{slug}", slug)
    if route.path.startswith("/v1/webhooks/"):
        admin = demo_user(base, "admin")
        response = requests.post(
            f"{base}/v1/webhooks",
            # a loopback port nobody listens on: deliveries fail, which is not this test's
            # business; the webhook is paused at once so nothing is retried for long
            json={"url": "http://127.0.0.1:9/matrix", "events": ["product.deleted"]},
            headers=admin.headers,
            timeout=30,
        )
        assert response.status_code == 201, response.text
        webhook_id = response.json()["id"]
        requests.patch(
            f"{base}/v1/webhooks/{webhook_id}",
            json={"active": False},
            headers=admin.headers,
            timeout=30,
        ).raise_for_status()
        return route.path.replace("{id}", webhook_id)
    if route.path.startswith("/v1/imports/"):
        editor = demo_user(base, "editor")
        response = requests.post(
            f"{base}/v1/imports",
            json={"format": "csv", "content_length": 100},
            headers=editor.headers,
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return route.path.replace("{id}", response.json()["job"]["id"])
    if route.path.startswith("/v1/exports/"):
        editor = demo_user(base, "editor")
        response = requests.post(
            f"{base}/v1/exports",
            json={"category": f"matrix-{uuid.uuid4().hex[:12]}"},  # an empty file: quick
            headers=editor.headers,
            timeout=30,
        )
        assert response.status_code == 202, response.text
        return route.path.replace("{id}", response.json()["id"])
    if route.path == "/v1/docs/{asset}":
        return route.path.replace("{asset}", "docs.js")  # a file of the docs page
    raise AssertionError(f"no resource factory for {route.path}: add one above")


@pytest.mark.parametrize(
    ("route", "kind"), CASES, ids=[f"{r.method} {r.path} as {k}" for r, k in CASES]
)
def test_access(
    local_system: Any,
    callers: dict[str, Callable[[topology.Route], dict[str, str]]],
    route: topology.Route,
    kind: str,
) -> None:
    # Given a fresh resource for the route's parameter (products: owned by the demo editor)
    path = _target_path(local_system, route)
    # And the credentials of this kind of caller
    headers = callers[kind](route)
    # And a valid body where the route takes one
    body = VALID_PATCH.get(route.path) if route.method == "PATCH" else None
    body = VALID_BODY.get((route.method, route.path), body)
    # When the caller sends the route's request
    response = requests.request(
        route.method, local_system.url + path, headers=headers, json=body, timeout=30
    )
    # Then the outcome is the one the route's access rules give this caller
    outcome = expected(route, kind)
    if outcome == ALLOWED:
        # And where allowed: past authentication and authorization, without a server error
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500, response.text
    else:
        # And where refused: that status, as an unauthorized or forbidden problem
        assert response.status_code == outcome, response.text
        problem = response.json()
        assert problem["status"] == outcome
        assert problem["type"] in (
            "urn:catalog:problem:unauthorized",
            "urn:catalog:problem:forbidden",
        )
        if outcome == 401:
            # And a 401 asks for a bearer token
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_matrix_covers_every_route_and_caller() -> None:
    # Then the matrix holds every route once per kind of caller
    assert len(CASES) == len(topology.ROUTES) * len(KINDS)
    # And its cases expect every outcome: allowed, 401 and 403
    assert {expected(r, k) for r, k in CASES} == {ALLOWED, 401, 403}
