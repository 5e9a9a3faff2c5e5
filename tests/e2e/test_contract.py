"""Every operation's documented example, sent to the local stack: each answer is one the
document describes (status, media type, body against its schema), and it is the
documented success wherever the example can succeed here."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from infra import topology
from tests.contract import conformance_errors, document
from tests.factories import (
    category_payload,
    image_upload_payload,
    import_request_payload,
    product_payload,
)
from tests.users import User, demo_user, new_user

# One worker: the examples share one account (see _the_examples_account).
pytestmark = pytest.mark.xdist_group("contract")
OPERATIONS = [
    route
    for route in topology.ROUTES
    if route.path in document["paths"] and route.method.lower() in document["paths"][route.path]
]
# Examples that cannot succeed here, and the documented answer they get instead: a made-up
# refresh token, and a webhook whose host resolves to no address offline. (moto takes any
# confirmation or reset code, so those examples succeed.)
EXPECTED_ELSEWHERE = {
    "refresh": 401,
    "create_webhook": 422,
}


def _example(route: topology.Route) -> Any:
    operation = document["paths"][route.path][route.method.lower()]
    body = operation.get("requestBody")
    return body["content"]["application/json"]["example"] if body else None


def _success(route: topology.Route) -> int:
    operation = document["paths"][route.path][route.method.lower()]
    return next(int(code) for code in operation["responses"] if int(code) < 400)


class Target:
    """A fresh resource for the route's path, and the caller allowed to act on it."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.admin = demo_user(base, "admin")
        self.editor = demo_user(base, "editor")
        self.webhooks: list[str] = []

    def clean_up(self) -> None:
        """Delete the webhooks made: a test may have woken one (a drawn body of PATCH with
        `active: true`), whose deliveries to its dead port would retry through the next
        tests on the shared system."""
        for webhook_id in self.webhooks:
            response = requests.delete(
                f"{self.base}/v1/webhooks/{webhook_id}", headers=self.admin.headers, timeout=30
            )
            assert response.status_code in (204, 404), response.text

    def post(self, path: str, body: Any, user: User) -> dict[str, Any]:
        response = requests.post(self.base + path, json=body, headers=user.headers, timeout=30)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def product(self) -> str:
        return str(self.post("/v1/products", product_payload(), self.editor)["id"])

    def category(self) -> str:
        slug = f"contract-{uuid.uuid4().hex[:12]}"
        self.post("/v1/categories", category_payload(slug=slug), self.admin)
        return slug

    def webhook(self) -> str:
        # A loopback port nobody listens on, paused at once: nothing is delivered for long.
        body = {"url": "http://127.0.0.1:9/contract", "events": ["product.deleted"]}
        webhook_id = str(self.post("/v1/webhooks", body, self.admin)["id"])
        self.webhooks.append(webhook_id)
        requests.patch(
            f"{self.base}/v1/webhooks/{webhook_id}",
            json={"active": False},
            headers=self.admin.headers,
            timeout=30,
        ).raise_for_status()
        return webhook_id

    def import_job(self) -> str:
        body = import_request_payload()
        return str(self.post("/v1/imports", body, self.editor)["job"]["id"])

    def export(self) -> str:
        # A category of no products: the job ends at once with an empty file.
        body = {"category": f"contract-{uuid.uuid4().hex[:12]}"}
        response = requests.post(
            self.base + "/v1/exports", json=body, headers=self.editor.headers, timeout=30
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def path_and_caller(self, route: topology.Route) -> tuple[str, User | None]:
        path = route.path
        if route.path.startswith("/v1/products/{id}"):
            product = self.product()
            path = path.replace("{id}", product)
            if "{image_id}" in path:
                image = self.post(
                    f"/v1/products/{product}/images", image_upload_payload(), self.editor
                )
                path = path.replace("{image_id}", image["image_id"])
            return path, self.editor
        if "{slug}" in path:
            return path.replace("{slug}", self.category()), self.admin
        if route.path.startswith("/v1/exports/{id}"):
            return path.replace("{id}", self.export()), self.editor
        if route.path.startswith("/v1/webhooks/{id}"):
            return path.replace("{id}", self.webhook()), self.admin
        if route.path.startswith("/v1/imports/{id}"):
            return path.replace("{id}", self.import_job()), self.editor
        if route.path.startswith("/v1/users/{id}"):
            return path.replace("{id}", new_user(self.base, tag="contract").sub), self.admin
        if route.operation in ("update_me", "logout"):
            # the demo users keep their names and their sign-ins
            return path, new_user(self.base, tag="contract")
        if route.access.public:
            return path, None
        allowed = (
            "admin" if "admin" in route.access.roles and len(route.access.roles) == 1 else "editor"
        )
        return path, self.admin if allowed == "admin" else self.editor


@pytest.mark.parametrize("route", OPERATIONS, ids=[f"{r.method} {r.path}" for r in OPERATIONS])
def test_the_documented_example_gets_a_documented_answer(
    local_system: Any, route: topology.Route
) -> None:
    # Given a fresh resource for the route's path, and a caller the route allows
    target = Target(local_system.url)
    path, caller = target.path_and_caller(route)
    try:
        _send_the_example(local_system, route, path, caller)
    finally:
        target.clean_up()


def _the_examples_account(local_system: Any) -> None:
    """The auth examples' account (ada@example.com) exists with the password of the login
    example, whichever of login, reset (which changes it) and register ran before."""
    import boto3

    registration = _example(document_route("register"))
    # (registering it again answers the same)
    requests.post(
        local_system.url + "/v1/auth/register", json=registration, timeout=30
    ).raise_for_status()
    cognito = boto3.client("cognito-idp", endpoint_url=local_system.aws_url)
    cognito.admin_set_user_password(
        UserPoolId=local_system.user_pool.pool_id,
        Username=registration["email"],
        Password=_example(document_route("login"))["password"],
        Permanent=True,
    )


def _send_the_example(
    local_system: Any, route: topology.Route, path: str, caller: User | None
) -> None:
    if route.operation in ("login", "reset_password"):
        _the_examples_account(local_system)
    # When the operation's documented example is sent
    response = requests.request(
        route.method,
        local_system.url + path,
        json=_example(route),
        headers=caller.headers if caller else {},
        timeout=30,
    )
    # Then the answer is the documented success (or the documented refusal noted above)
    expected = EXPECTED_ELSEWHERE.get(route.operation, _success(route))
    assert response.status_code == expected, response.text
    if route.operation == "create_webhook":
        # (refused for its host's addresses, not its form: the schema took it)
        assert "does not resolve" in response.json()["errors"][0]["detail"]
    # And the document describes it: status, media type and body
    errors = conformance_errors(
        route.method,
        route.path,
        response.status_code,
        response.headers.get("Content-Type"),
        response.text,
    )
    assert not errors, errors


def document_route(operation: str) -> topology.Route:
    return next(route for route in topology.ROUTES if route.operation == operation)
