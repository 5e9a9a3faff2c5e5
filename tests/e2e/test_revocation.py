"""Access taken back takes effect within seconds, for tokens already issued: disabling,
deleting, demoting and signing out, in every function (catalog.identity.revocation)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from infra.stages import stage as stage_config
from tests.conftest import product_payload
from tests.users import PASSWORD, User, demo_user, new_user

# Every function instance re-reads a caller's access record after this many seconds.
BOUND_S = stage_config("local").access_cache_s


def within_bound(check: Callable[[], bool]) -> float:
    """Seconds until `check` holds; fails if it does not within the bound (and a margin for
    the request itself)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < BOUND_S + 1.0, "not within the revocation bound"
        time.sleep(0.1)
    return time.monotonic() - started


def create(base: str, user: User) -> int:
    return requests.post(
        f"{base}/v1/products", json=product_payload(), headers=user.headers, timeout=30
    ).status_code


def test_a_disabled_editor_is_refused_everywhere_within_the_bound(local_system: Any) -> None:
    # Given an editor whose token the products and users functions have just served
    base, admin = local_system.url, demo_user(local_system.url, "admin")
    editor = new_user(base, "editor", tag="disabled")
    assert create(base, editor) == 201
    assert requests.get(f"{base}/v1/users/me", headers=editor.headers, timeout=30).ok
    # When an admin disables them
    answer = requests.patch(
        f"{base}/v1/users/{editor.sub}", json={"enabled": False}, headers=admin.headers, timeout=30
    )
    assert answer.status_code == 200
    # Then, within the bound, creating a product with that token is refused: 401
    within_bound(lambda: create(base, editor) == 401)
    # And so is reading their own profile
    me = requests.get(f"{base}/v1/users/me", headers=editor.headers, timeout=30)
    assert me.status_code == 401
    assert me.json()["type"] == "urn:catalog:problem:unauthorized"


def test_a_demoted_editor_acts_as_a_viewer_within_the_bound(local_system: Any) -> None:
    # Given an editor who has created a product
    base, admin = local_system.url, demo_user(local_system.url, "admin")
    editor = new_user(base, "editor", tag="demoted")
    assert create(base, editor) == 201
    # When an admin makes them a viewer
    answer = requests.patch(
        f"{base}/v1/users/{editor.sub}", json={"role": "viewer"}, headers=admin.headers, timeout=30
    )
    assert answer.status_code == 200
    # Then, within the bound, their editor token may no longer create: 403
    within_bound(lambda: create(base, editor) == 403)
    # And it still does what a viewer may: read their profile
    assert requests.get(f"{base}/v1/users/me", headers=editor.headers, timeout=30).ok


def test_a_deleted_users_token_no_longer_writes_subscriptions(local_system: Any) -> None:
    # Given a user subscribed to a category
    base, admin = local_system.url, demo_user(local_system.url, "admin")
    user = new_user(base, tag="deleted")
    url = f"{base}/v1/users/me/subscriptions"
    put = {"categories": ["kitchen"]}
    assert requests.put(url, json=put, headers=user.headers, timeout=30).status_code == 200
    # When an admin deletes the account
    deleted = requests.delete(f"{base}/v1/users/{user.sub}", headers=admin.headers, timeout=30)
    assert deleted.status_code == 204
    # Then, within the bound, their token is refused: 401
    within_bound(
        lambda: requests.put(url, json=put, headers=user.headers, timeout=30).status_code == 401
    )


def test_signing_out_refuses_the_access_token_and_a_new_sign_in_works(local_system: Any) -> None:
    # Given a signed-in editor
    base = local_system.url
    editor = new_user(base, "editor", tag="signout")
    assert create(base, editor) == 201
    # When they sign out
    out = requests.post(f"{base}/v1/auth/logout", headers=editor.headers, timeout=30)
    assert out.status_code == 204
    # Then, within the bound, the token they signed out with is refused: 401
    within_bound(lambda: create(base, editor) == 401)
    # And once the second of the sign-out is over, signing in again gives a working token
    time.sleep(1.0)
    signed_in = requests.post(
        f"{base}/v1/auth/login", json={"email": editor.email, "password": PASSWORD}, timeout=30
    )
    token = signed_in.json()["access_token"]
    again = User(editor.email, editor.sub, token)
    assert create(base, again) == 201


def test_re_enabling_does_not_bring_old_tokens_back(local_system: Any) -> None:
    # Given an editor disabled and refused
    base, admin = local_system.url, demo_user(local_system.url, "admin")
    editor = new_user(base, "editor", tag="reenabled")
    url = f"{base}/v1/users/{editor.sub}"
    requests.patch(url, json={"enabled": False}, headers=admin.headers, timeout=30)
    within_bound(lambda: create(base, editor) == 401)
    # When an admin enables the account again
    enabled = requests.patch(url, json={"enabled": True}, headers=admin.headers, timeout=30)
    assert enabled.status_code == 200
    # Then the token of before stays refused, beyond the bound
    time.sleep(BOUND_S + 0.5)
    assert create(base, editor) == 401
