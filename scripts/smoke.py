"""A smoke test of a deployed (or local) catalog: the paths every client takes, once.

    python scripts/smoke.py --api https://<id>.execute-api.<region>.amazonaws.com/dev \
        --editor-email smoke@example.com [--user-pool-id <pool>]

health -> register a throwaway account -> sign it in -> read its profile -> sign in as the
smoke editor (its password in SMOKE_EDITOR_PASSWORD) -> create a product -> read it ->
delete it -> the product is gone (404). With `--user-pool-id` (and AWS credentials allowed
`cognito-idp:AdminDeleteUser`) the throwaway account is deleted again. Sign-ups must be
confirmed without an emailed code (the dev stage): prod is smoke-tested read-only with
`--read-only` (health and the product list). Exit status 0 when every step passed; each
step prints one line.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Callable
from typing import Any

import requests

TIMEOUT_S = 30


class SmokeFailed(Exception):
    pass


def expect(response: requests.Response, status: int, what: str) -> Any:
    if response.status_code != status:
        raise SmokeFailed(
            f"{what}: {response.status_code} (expected {status}): {response.text[:300]}"
        )
    print(f"ok   {what} ({status})")
    return response.json() if response.content else None


def run(api: str, editor_email: str, editor_password: str, read_only: bool) -> str | None:
    """The steps; returns the throwaway account's email (to clean up), if one was made."""
    http = requests.Session()

    def call(
        method: str,
        path: str,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        sent = {**(headers or {}), **({"Authorization": f"Bearer {token}"} if token else {})}
        return http.request(method, api + path, headers=sent, timeout=TIMEOUT_S, **kwargs)

    expect(call("GET", "/v1/health"), 200, "GET /v1/health")
    if read_only:
        expect(call("GET", "/v1/products?limit=1"), 200, "GET /v1/products")
        return None
    run_id = uuid.uuid4().hex[:12]
    email = f"smoke-{run_id}@example.com"
    password = f"Smoke-{run_id}-Aa1!"
    expect(
        call(
            "POST",
            "/v1/auth/register",
            json={"email": email, "password": password, "name": "Smoke"},
        ),
        201,
        "POST /v1/auth/register",
    )
    tokens = expect(
        call("POST", "/v1/auth/login", json={"email": email, "password": password}),
        200,
        "POST /v1/auth/login (new account)",
    )
    expect(call("GET", "/v1/users/me", tokens["access_token"]), 200, "GET /v1/users/me")
    editor = expect(
        call("POST", "/v1/auth/login", json={"email": editor_email, "password": editor_password}),
        200,
        "POST /v1/auth/login (smoke editor)",
    )["access_token"]
    items = expect(call("GET", "/v1/categories"), 200, "GET /v1/categories")["items"]
    if not items:
        raise SmokeFailed("GET /v1/categories: no category to create a product in")
    product = {
        "sku": f"SMOKE-{run_id.upper()}",
        "name": "Smoke test product",
        "price": "1.00",
        "currency": "EUR",
        "category": items[0]["slug"],
        "stock": 0,
    }
    created = expect(call("POST", "/v1/products", editor, json=product), 201, "POST /v1/products")
    path = f"/v1/products/{created['id']}"
    expect(call("GET", path, editor), 200, f"GET {path}")
    deleted = call("DELETE", path, editor, headers={"If-Match": f'"{created["version"]}"'})
    expect(deleted, 204, f"DELETE {path}")
    expect(call("GET", path, editor), 404, f"GET {path} after the delete")
    return email


def delete_account(
    user_pool_id: str, email: str, client: Callable[[str], Any] | None = None
) -> None:
    import boto3

    cognito = (client or boto3.client)("cognito-idp")
    cognito.admin_delete_user(UserPoolId=user_pool_id, Username=email)
    print(f"ok   deleted the throwaway account {email}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", required=True, help="base URL, e.g. the stack's ApiUrl output")
    parser.add_argument("--editor-email", default=os.environ.get("SMOKE_EDITOR_EMAIL"))
    parser.add_argument("--user-pool-id", help="delete the throwaway account afterwards")
    parser.add_argument("--read-only", action="store_true", help="health and listing only")
    args = parser.parse_args(argv)
    password = os.environ.get("SMOKE_EDITOR_PASSWORD", "")
    if not args.read_only and not (args.editor_email and password):
        parser.error("--editor-email (or SMOKE_EDITOR_EMAIL) and SMOKE_EDITOR_PASSWORD are needed")
    email = None
    try:
        email = run(args.api.rstrip("/"), args.editor_email or "", password, args.read_only)
    except (SmokeFailed, requests.RequestException) as failure:
        print(f"FAIL {failure}", file=sys.stderr)
        return 1
    finally:
        if email and args.user_pool_id:
            delete_account(args.user_pool_id, email)
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
