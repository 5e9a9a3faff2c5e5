"""HTTP access to the local system for end-to-end scenarios."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import requests

from infra.local.pump.sqs import messages_held
from tests.e2e.receiver import Receiver
from tests.users import User, demo_user


class Api:
    """HTTP calls to the local gateway, as one user (or anonymously)."""

    def __init__(self, base_url: str, user: User | None = None) -> None:
        self.base_url = base_url
        self.user = user
        self.session = requests.Session()
        if user is not None:
            self.session.headers.update(user.headers)

    def as_user(self, user: User | None) -> Api:
        return Api(self.base_url, user)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base_url + path, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture(scope="session")
def anonymous(local_system: Any) -> Api:
    return Api(local_system.url)


@pytest.fixture(scope="session")
def api(local_system: Any) -> Iterator[Api]:
    """Calls as the demo editor (who may create products and change their own)."""
    yield Api(local_system.url, demo_user(local_system.url, "editor"))


def queue_depth(system: Any, queue: str) -> int:
    """The messages of one of `system`'s queues: visible, in flight and delayed."""
    sqs = boto3.client("sqs", endpoint_url=system.aws_url, region_name=system.region)
    return messages_held(sqs, system.names["queues"][queue])


ALL_PRODUCT_EVENTS = [
    "product.created",
    "product.updated",
    "product.deleted",
    "product.published",
    "product.price_changed",
]


@pytest.fixture
def register(local_system: Any) -> Iterator[Callable[..., tuple[Receiver, dict[str, Any]]]]:
    """Start a receiver and register it as a webhook (as the demo admin); both go away
    after the test."""
    admin = Api(local_system.url, demo_user(local_system.url, "admin"))
    made: list[tuple[Receiver, str]] = []

    def make(
        decide: Callable[[dict[str, Any], int], int] = lambda event, attempt: 200,
        events: list[str] | None = None,
    ) -> tuple[Receiver, dict[str, Any]]:
        receiver = Receiver(decide).start()
        response = admin.post(
            "/v1/webhooks",
            json={"url": receiver.url, "events": events or ALL_PRODUCT_EVENTS, "description": "t"},
        )
        assert response.status_code == 201, response.text
        made.append((receiver, response.json()["id"]))
        return receiver, response.json()

    yield make
    for receiver, webhook_id in made:
        admin.delete(f"/v1/webhooks/{webhook_id}")
        receiver.stop()
