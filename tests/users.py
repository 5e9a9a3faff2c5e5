"""Signed-in test users of the local system: one per role, plus a second editor."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache
from typing import Any

import requests

from infra.local.demo_users import DEMO_USERS, admin_profile_patch, demo_password, login
from tests.factories import PASSWORD as PASSWORD  # the tests' import

_numbers = itertools.count(1)


@dataclass(frozen=True)
class User:
    email: str
    sub: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _me(base_url: str, token: str) -> str:
    response = requests.get(
        f"{base_url}/v1/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    response.raise_for_status()
    return str(response.json()["id"])


@cache
def demo_user(base_url: str, role: str) -> User:
    token = login(base_url, DEMO_USERS[role], demo_password())
    return User(DEMO_USERS[role], _me(base_url, token), token)


def new_user(base_url: str, role: str = "viewer", *, tag: str = "user") -> User:
    """Register a fresh account through the API and give it `role` as the demo admin."""
    email = f"{tag}-{next(_numbers)}-{id(object())}@example.com"
    response = requests.post(
        f"{base_url}/v1/auth/register",
        json={"email": email, "password": PASSWORD, "name": tag.title()},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    token = login(base_url, email, PASSWORD)
    sub = _me(base_url, token)
    if role != "viewer":
        admin_profile_patch(base_url, demo_user(base_url, "admin").token, sub, role)
        token = login(base_url, email, PASSWORD)  # a fresh token carries the new group
    return User(email, sub, token)


def fresh_category(base_url: str, tag: str) -> str:
    """A new category `<tag>-<random>`, made by the demo admin: a test's own partition of
    the shared local system (other tests' products are never in it)."""
    import uuid

    slug = f"{tag}-{uuid.uuid4().hex[:8]}"
    response = requests.post(
        f"{base_url}/v1/categories",
        json={"slug": slug, "name": tag.title()},
        headers=demo_user(base_url, "admin").headers,
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return slug


def auth(user: User | None) -> dict[str, Any]:
    return {"headers": user.headers} if user else {}
