"""Demo users for `make run`: one per role, signed up through the API like anyone else."""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3

from infra import topology

DEFAULT_DEMO_PASSWORD = "Catalog-Demo-2026!"  # noqa: S105 - documented local-only default
DEMO_USERS = {
    "admin": "admin@example.com",
    "editor": "editor@example.com",
    "viewer": "viewer@example.com",
}


@dataclass(frozen=True)
class DemoUser:
    role: str
    email: str
    password: str


def demo_password() -> str:
    return os.environ.get("CATALOG_DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD


def _post(url: str, body: dict[str, object], token: str | None = None) -> dict[str, object]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 - a loopback URL we started ourselves
        url, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        text = response.read()
    return json.loads(text) if text else {}


def login(base_url: str, email: str, password: str) -> str:
    tokens = _post(f"{base_url}/v1/auth/login", {"email": email, "password": password})
    return str(tokens["access_token"])


def create_demo_users(
    base_url: str, aws_url: str, region: str, refs: topology.UserPoolRefs
) -> list[DemoUser]:
    """Register each demo user through the API (each starts as a viewer), then give roles.

    The first admin is made as an operator would make one in a real deployment: with the
    Cognito admin API, outside ours. That admin then promotes itself and the editor through
    `PATCH /v1/users/{id}`, which keeps the profiles' roles in step with the groups.

    The API serves meanwhile, so a client may have registered a demo email first (with its
    own password: registering a taken email answers like a new registration). Each demo
    account's password is then set as the operator would, so that it always is the demo
    password and the run goes on; running this again changes nothing.
    """
    password = demo_password()
    cognito = boto3.session.Session(region_name=region).client("cognito-idp", endpoint_url=aws_url)
    users = []
    for role, email in DEMO_USERS.items():
        _post(
            f"{base_url}/v1/auth/register",
            {"email": email, "password": password, "name": role.title()},
        )
        cognito.admin_set_user_password(
            UserPoolId=refs.pool_id, Username=email, Password=password, Permanent=True
        )
        users.append(DemoUser(role, email, password))
    admin_sub = _sub_of(cognito, refs.pool_id, DEMO_USERS["admin"])
    cognito.admin_add_user_to_group(UserPoolId=refs.pool_id, Username=admin_sub, GroupName="admin")
    admin_token = login(base_url, DEMO_USERS["admin"], password)
    admin_profile_patch(base_url, admin_token, admin_sub, "admin")
    editor_sub = _sub_of(cognito, refs.pool_id, DEMO_USERS["editor"])
    admin_profile_patch(base_url, admin_token, editor_sub, "editor")
    return users


def _sub_of(cognito: Any, pool_id: str, email: str) -> str:
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=email)
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    return str(attributes["sub"])


def admin_profile_patch(base_url: str, token: str, sub: str, role: str) -> None:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{base_url}/v1/users/{sub}",
        data=json.dumps({"role": role}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="PATCH",
    )
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310
        pass
