"""The stage's throttles hold locally: a gateway with them, in front of the real functions.

The buckets run on a clock the test moves, so what passes is exact, not a matter of speed:
a stopped clock refills nothing, and each step of 1/rate seconds refills one token.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import requests

from infra import gateway_responses
from infra.local.gateway import LocalGateway
from infra.local.gateway.throttle import Throttles, route_throttles
from infra.stages import stage

WRONG = {"email": "nobody@example.com", "password": "Wrong-password-1"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def throttled(local_system: Any) -> Iterator[tuple[str, Clock]]:
    """A second gateway with the local stage's throttles, on the suite's functions."""
    gateway = LocalGateway(local_system.gateway.functions, "local", "127.0.0.1", 0)
    clock = Clock()
    gateway.throttles = Throttles(gateway.config, route_throttles(), clock=clock)
    gateway.start()
    try:
        yield gateway.url, clock
    finally:
        gateway.stop()


def login(url: str) -> requests.Response:
    return requests.post(url + "/v1/auth/login", json=WRONG, timeout=30)


def test_wrong_passwords_are_answered_only_up_to_the_burst(
    throttled: tuple[str, Clock],
) -> None:
    url, clock = throttled
    # Given the auth routes' limits (5/s, burst 10) and a clock that does not move
    assert route_throttles()[("POST", "/v1/auth/login")] == (5, 10)
    # When twenty wrong passwords are sent in a row
    statuses = [login(url).status_code for _ in range(20)]
    # Then the first ten are answered (401) and the rest throttled (429)
    assert statuses == [401] * 10 + [429] * 10
    # And once a fifth of a second has passed, one more attempt is answered
    clock.now += 0.2
    assert [login(url).status_code for _ in range(2)] == [401, 429]


def test_a_throttled_request_is_the_gateway_s_429_with_retry_after(
    throttled: tuple[str, Clock],
) -> None:
    url, _ = throttled
    # Given the login route's burst used up
    for _ in range(10):
        login(url)
    # When one more attempt is sent from a browser page
    response = requests.post(
        url + "/v1/auth/login", json=WRONG, headers={"Origin": "http://localhost:5173"}, timeout=30
    )
    # Then it is the THROTTLED gateway response: problem+json with Retry-After, and the
    # stage's CORS and security headers, exactly as the stack installs it
    assert response.status_code == 429
    assert response.json()["type"] == "urn:catalog:problem:too-many-requests"
    assert response.headers["Retry-After"] == "1"
    for name, value in gateway_responses.headers("THROTTLED", stage("local")).items():
        assert response.headers[name] == value


def test_each_method_has_its_own_bucket(throttled: tuple[str, Clock]) -> None:
    url, _ = throttled
    # Given the login route's burst used up
    for _ in range(10):
        login(url)
    assert login(url).status_code == 429
    # When another route is called
    health = requests.get(url + "/v1/health", timeout=30)
    refresh = requests.post(url + "/v1/auth/refresh", json={"refresh_token": "x"}, timeout=30)
    # Then it is served: the stage's limits apply per method, not across the API
    assert health.status_code == 200
    assert refresh.status_code != 429


def test_the_stage_limit_applies_to_routes_without_their_own(local_system: Any) -> None:
    # Given a gateway whose stage allows 2 requests per second, burst 3, on a stopped clock
    gateway = LocalGateway(local_system.gateway.functions, "local", "127.0.0.1", 0)
    tight = replace(stage("local"), throttle_rate=2, throttle_burst=3)
    gateway.throttles = Throttles(tight, route_throttles(), clock=Clock())
    gateway.start()
    try:
        # When health is asked for five times
        health = [requests.get(gateway.url + "/v1/health", timeout=30) for _ in range(5)]
    finally:
        gateway.stop()
    # Then the burst is served and the rest throttled
    assert [r.status_code for r in health] == [200, 200, 200, 429, 429]
