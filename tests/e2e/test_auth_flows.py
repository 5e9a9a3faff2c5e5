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
    # Given a visitor registering with a fresh email
    email = fresh_email()
    registered = register(local_system, email)
    # Then the account is created at once, with no confirmation required
    assert registered.status_code == 201
    assert registered.json() == {"email": email, "confirmation_required": False}

    # When they sign in
    tokens = sign_in(local_system, email).json()
    # Then they get a bearer token
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
    # And it opens their profile: a viewer named Flo
    profile = me(local_system, tokens["access_token"]).json()
    assert (profile["email"], profile["role"], profile["name"]) == (email, "viewer", "Flo")

    # When they refresh their tokens
    refreshed = post(local_system, "/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    # Then the new access token is theirs too
    assert refreshed.status_code == 200
    assert me(local_system, refreshed.json()["access_token"]).json()["id"] == profile["id"]

    # When they sign out
    assert post(local_system, "/v1/auth/logout", {}, tokens["access_token"]).status_code == 204
    # Then their refresh token no longer works: 401
    again = post(local_system, "/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401


def test_sign_in_failures_all_look_the_same(local_system: Any) -> None:
    # Given a registered account
    email = fresh_email()
    register(local_system, email)
    # And an account signed up straight in Cognito that nobody confirmed
    unconfirmed = fresh_email()
    cognito = boto3.client("cognito-idp", endpoint_url=local_system.aws_url)
    cognito.sign_up(  # straight to Cognito: an account nobody confirmed
        ClientId=local_system.user_pool.client_id, Username=unconfirmed, Password=PASSWORD
    )
    # When someone signs in with a wrong password, an unknown email and the unconfirmed account
    answers = [
        sign_in(local_system, email, "Wrong-Passw0rd!"),
        sign_in(local_system, fresh_email()),
        sign_in(local_system, unconfirmed),
    ]
    # Then all three are refused alike: 401 with the same body
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert len({a.text for a in answers}) == 1


def test_registering_a_taken_email_answers_like_a_new_one(local_system: Any) -> None:
    # Given a fresh email
    email = fresh_email()
    # When it is registered twice, the second time with another password
    first, second = register(local_system, email), register(local_system, email, NEW_PASSWORD)
    # Then both answers are the same, giving away nothing
    assert (first.status_code, first.json()) == (second.status_code, second.json())
    # And the account keeps its first password
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
    # When a registration with one invalid field is posted
    response = post(local_system, "/v1/auth/register", body)
    # Then it is refused: 422, pointing at that field
    assert response.status_code == 422
    assert pointer in [e.get("pointer") for e in response.json()["errors"]]


def test_password_reset(local_system: Any) -> None:
    # Given a registered account
    email = fresh_email()
    register(local_system, email)
    # When its owner asks for a reset code
    # Then the request is accepted: 202
    assert post(local_system, "/v1/auth/password/forgot", {"email": email}).status_code == 202
    # And a reset asked for an unknown email is accepted alike
    unknown = post(local_system, "/v1/auth/password/forgot", {"email": fresh_email()})
    assert unknown.status_code == 202  # no hint whether the account exists
    # When the owner resets the password with the code
    reset = {"email": email, "code": "123456", "password": NEW_PASSWORD}
    assert post(local_system, "/v1/auth/password/reset", reset).status_code == 204
    # Then the new password signs in and the old one no longer does
    assert sign_in(local_system, email, NEW_PASSWORD).status_code == 200
    assert sign_in(local_system, email).status_code == 401
    # When a reset is tried for an email nobody registered
    # Then it is refused: 400
    stranger = {"email": fresh_email(), "code": "123456", "password": NEW_PASSWORD}
    assert post(local_system, "/v1/auth/password/reset", stranger).status_code == 400


def test_a_viewer_edits_only_their_own_profile(local_system: Any) -> None:
    # Given a signed-in viewer
    email = fresh_email()
    register(local_system, email)
    token = sign_in(local_system, email).json()["access_token"]
    # When they rename themselves, with spaces around the name
    response = requests.patch(
        local_system.url + "/v1/users/me",
        json={"name": "  Florence  "},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    # Then the change is accepted
    assert response.status_code == 200
    # And their profile shows the trimmed name
    assert me(local_system, token).json()["name"] == "Florence"


def test_admin_promotes_disables_and_deletes_an_account(local_system: Any) -> None:
    # Given an admin and a freshly registered viewer
    admin = demo_user(local_system.url, "admin")
    email = fresh_email()
    register(local_system, email)
    sub = me(local_system, sign_in(local_system, email).json()["access_token"]).json()["id"]
    user_url = f"{local_system.url}/v1/users/{sub}"

    # When the admin lists all accounts, page by page
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
    # Then the viewer is among them, in order of email
    assert email in seen and seen == sorted(seen)

    # When the admin promotes the viewer to editor
    promoted = requests.patch(user_url, json={"role": "editor"}, headers=admin.headers, timeout=30)
    # Then the account's role is editor
    assert promoted.json()["role"] == "editor"
    # When the new editor signs in again and creates a product
    token = sign_in(local_system, email).json()["access_token"]  # new groups, new token
    created = requests.post(
        local_system.url + "/v1/products",
        json=product_payload(),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    # Then it is created, owned by them
    assert created.status_code == 201
    assert created.json()["owner"] == sub

    # When the admin disables the account
    disabled = requests.patch(user_url, json={"enabled": False}, headers=admin.headers, timeout=30)
    # Then it is disabled and its sign-in is refused: 401
    assert disabled.json()["enabled"] is False
    assert sign_in(local_system, email).status_code == 401

    # When the admin deletes the account
    assert requests.delete(user_url, headers=admin.headers, timeout=30).status_code == 204
    # Then it is gone: 404, and its sign-in is refused
    assert requests.get(user_url, headers=admin.headers, timeout=30).status_code == 404
    assert sign_in(local_system, email).status_code == 401


def test_admins_cannot_lock_themselves_out(local_system: Any) -> None:
    # Given an admin
    admin = demo_user(local_system.url, "admin")
    own = f"{local_system.url}/v1/users/{admin.sub}"
    # When they try to demote themselves or to disable themselves
    for change in ({"role": "viewer"}, {"enabled": False}):
        # Then each change is refused: 409
        assert (
            requests.patch(own, json=change, headers=admin.headers, timeout=30).status_code == 409
        )
    # And so is deleting their own account: 409
    assert requests.delete(own, headers=admin.headers, timeout=30).status_code == 409


def test_no_secret_reaches_the_logs_of_a_login_and_a_protected_call(local_system: Any) -> None:
    # Given the functions' log captured at DEBUG level
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    level = logger.log_level
    logger.setLevel("DEBUG")
    try:
        # When a user registers, fails a sign-in, signs in and calls a protected route
        email = fresh_email()
        register(local_system, email)
        sign_in(local_system, email, "Wrong-Passw0rd!")  # a failure logs too
        token = sign_in(local_system, email).json()["access_token"]
        assert me(local_system, token).status_code == 200
    finally:
        logger.setLevel(level)
        logger.removeHandler(handler)
    # Then the calls were logged
    written = stream.getvalue()
    assert written, "the functions logged the calls"
    # And no password or token appears in the log
    for secret in (PASSWORD, "Wrong-Passw0rd!", token, token.split(".")[2]):
        assert secret not in written
