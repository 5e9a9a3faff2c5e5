"""Sign-up, sign-in, refresh, sign-out, password reset and account administration over HTTP."""

from __future__ import annotations

import io
import itertools
import logging
from typing import Any

import boto3
import pytest
import requests

from catalog.core.observability import logger
from tests.conftest import product_payload
from tests.users import PASSWORD, demo_user

_numbers = itertools.count(1)
NEW_PASSWORD = "Another-Passw0rd-Strong!"


def fresh_email() -> str:
    return f"flow-{next(_numbers)}-{id(object())}@example.com"


def post(
    local_system: Any, path: str, body: dict[str, Any], token: str | None = None
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(local_system.url + path, json=body, headers=headers, timeout=30)


def register(local_system: Any, email: str, password: str = PASSWORD) -> requests.Response:
    return post(
        local_system, "/v1/auth/register", {"email": email, "password": password, "name": "Flo"}
    )


def sign_in(local_system: Any, email: str, password: str = PASSWORD) -> requests.Response:
    return post(local_system, "/v1/auth/login", {"email": email, "password": password})


def me(local_system: Any, token: str) -> requests.Response:
    return requests.get(
        local_system.url + "/v1/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_register_login_refresh_logout(local_system: Any) -> None:
    email = fresh_email()
    registered = register(local_system, email)
    assert registered.status_code == 201
    assert registered.json() == {"email": email, "confirmation_required": False}

    tokens = sign_in(local_system, email).json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
    profile = me(local_system, tokens["access_token"]).json()
    assert (profile["email"], profile["role"], profile["name"]) == (email, "viewer", "Flo")

    refreshed = post(local_system, "/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    assert me(local_system, refreshed.json()["access_token"]).json()["id"] == profile["id"]

    assert post(local_system, "/v1/auth/logout", {}, tokens["access_token"]).status_code == 204
    again = post(local_system, "/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401


def test_sign_in_failures_all_look_the_same(local_system: Any) -> None:
    email = fresh_email()
    register(local_system, email)
    unconfirmed = fresh_email()
    cognito = boto3.client("cognito-idp", endpoint_url=local_system.aws_url)
    cognito.sign_up(  # straight to Cognito: an account nobody confirmed
        ClientId=local_system.user_pool.client_id, Username=unconfirmed, Password=PASSWORD
    )
    answers = [
        sign_in(local_system, email, "Wrong-Passw0rd!"),
        sign_in(local_system, fresh_email()),
        sign_in(local_system, unconfirmed),
    ]
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert len({a.text for a in answers}) == 1


def test_registering_a_taken_email_answers_like_a_new_one(local_system: Any) -> None:
    email = fresh_email()
    first, second = register(local_system, email), register(local_system, email, NEW_PASSWORD)
    assert (first.status_code, first.json()) == (second.status_code, second.json())
    assert sign_in(local_system, email).status_code == 200  # the account was not changed
    assert sign_in(local_system, email, NEW_PASSWORD).status_code == 401


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"email": "a@example.com", "password": "short", "name": "A"}, "#/password"),
        ({"email": "not-an-email", "password": PASSWORD, "name": "A"}, "#/email"),
        ({"email": "a@example.com", "password": PASSWORD, "name": ""}, "#/name"),
    ],
)
def test_bad_registrations_are_422(local_system: Any, body: dict[str, Any], pointer: str) -> None:
    response = post(local_system, "/v1/auth/register", body)
    assert response.status_code == 422
    assert pointer in [e.get("pointer") for e in response.json()["errors"]]


def test_password_reset(local_system: Any) -> None:
    email = fresh_email()
    register(local_system, email)
    assert post(local_system, "/v1/auth/password/forgot", {"email": email}).status_code == 202
    unknown = post(local_system, "/v1/auth/password/forgot", {"email": fresh_email()})
    assert unknown.status_code == 202  # no hint whether the account exists
    reset = {"email": email, "code": "123456", "password": NEW_PASSWORD}
    assert post(local_system, "/v1/auth/password/reset", reset).status_code == 204
    assert sign_in(local_system, email, NEW_PASSWORD).status_code == 200
    assert sign_in(local_system, email).status_code == 401
    stranger = {"email": fresh_email(), "code": "123456", "password": NEW_PASSWORD}
    assert post(local_system, "/v1/auth/password/reset", stranger).status_code == 400


def test_a_viewer_edits_only_their_own_profile(local_system: Any) -> None:
    email = fresh_email()
    register(local_system, email)
    token = sign_in(local_system, email).json()["access_token"]
    response = requests.patch(
        local_system.url + "/v1/users/me",
        json={"name": "  Florence  "},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200
    assert me(local_system, token).json()["name"] == "Florence"


def test_admin_promotes_disables_and_deletes_an_account(local_system: Any) -> None:
    admin = demo_user(local_system.url, "admin")
    email = fresh_email()
    register(local_system, email)
    sub = me(local_system, sign_in(local_system, email).json()["access_token"]).json()["id"]
    user_url = f"{local_system.url}/v1/users/{sub}"

    listing = requests.get(
        local_system.url + "/v1/users", params={"limit": 100}, headers=admin.headers, timeout=30
    ).json()
    seen = [u["email"] for u in listing["items"]]
    while listing["next_cursor"]:
        listing = requests.get(
            local_system.url + "/v1/users",
            params={"limit": 100, "cursor": listing["next_cursor"]},
            headers=admin.headers,
            timeout=30,
        ).json()
        seen += [u["email"] for u in listing["items"]]
    assert email in seen and seen == sorted(seen)

    promoted = requests.patch(user_url, json={"role": "editor"}, headers=admin.headers, timeout=30)
    assert promoted.json()["role"] == "editor"
    token = sign_in(local_system, email).json()["access_token"]  # new groups, new token
    created = requests.post(
        local_system.url + "/v1/products",
        json=product_payload(),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert created.status_code == 201
    assert created.json()["owner"] == sub

    disabled = requests.patch(user_url, json={"enabled": False}, headers=admin.headers, timeout=30)
    assert disabled.json()["enabled"] is False
    assert sign_in(local_system, email).status_code == 401

    assert requests.delete(user_url, headers=admin.headers, timeout=30).status_code == 204
    assert requests.get(user_url, headers=admin.headers, timeout=30).status_code == 404
    assert sign_in(local_system, email).status_code == 401


def test_admins_cannot_lock_themselves_out(local_system: Any) -> None:
    admin = demo_user(local_system.url, "admin")
    own = f"{local_system.url}/v1/users/{admin.sub}"
    for change in ({"role": "viewer"}, {"enabled": False}):
        assert (
            requests.patch(own, json=change, headers=admin.headers, timeout=30).status_code == 409
        )
    assert requests.delete(own, headers=admin.headers, timeout=30).status_code == 409


def test_no_secret_reaches_the_logs_of_a_login_and_a_protected_call(local_system: Any) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    level = logger.log_level
    logger.setLevel("DEBUG")
    try:
        email = fresh_email()
        register(local_system, email)
        sign_in(local_system, email, "Wrong-Passw0rd!")  # a failure logs too
        token = sign_in(local_system, email).json()["access_token"]
        assert me(local_system, token).status_code == 200
    finally:
        logger.setLevel(level)
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert written, "the functions logged the calls"
    for secret in (PASSWORD, "Wrong-Passw0rd!", token, token.split(".")[2]):
        assert secret not in written
