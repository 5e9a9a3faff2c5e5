"""HTTP access to the local system for end-to-end scenarios."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

from infra.local.pump.sqs import messages_held
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
