"""The local gateway's token buckets: API Gateway's per-method throttling semantics."""

from __future__ import annotations

from dataclasses import replace

from infra.local.gateway.routes import ANY, route_table
from infra.local.gateway.throttle import Throttles, TokenBucket, route_throttles
from infra.stages import stage


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_lets_the_burst_through_then_refills_at_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=5, burst=10, clock=clock)
    # A fresh bucket: the burst passes, the next request does not
    assert [bucket.take() for _ in range(11)] == [True] * 10 + [False]
    # 0.1 s refills half a token: not enough; 0.2 s refills one
    clock.now += 0.1
    assert bucket.take() is False
    clock.now += 0.1
    assert [bucket.take(), bucket.take()] == [True, False]


def test_a_bucket_never_holds_more_than_its_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=5, burst=10, clock=clock)
    # After an hour idle, still only the burst passes at once
    clock.now += 3600
    assert sum(bucket.take() for _ in range(50)) == 10


def test_limits_are_the_route_s_own_or_the_stage_s() -> None:
    config = replace(stage("local"), throttle_rate=7, throttle_burst=9)
    throttles = Throttles(config, route_throttles(), clock=Clock())
    routes = {(r.method, r.path): r for r in route_table()}
    # The auth routes declare 5/s, burst 10; other routes and the ANY fallbacks get the stage's
    assert throttles.limits(routes[("POST", "/v1/auth/login")]) == (5, 10)
    assert throttles.limits(routes[("GET", "/v1/products")]) == (7, 9)
    assert throttles.limits(routes[(ANY, "/v1/auth/login")]) == (7, 9)


def test_every_method_has_its_own_bucket() -> None:
    throttles = Throttles(replace(stage("local"), throttle_burst=1), {}, clock=Clock())
    routes = {(r.method, r.path): r for r in route_table()}
    get, post = routes[("GET", "/v1/products")], routes[("POST", "/v1/products")]
    # One method's bucket used up leaves the other's untouched
    assert [throttles.allow(get), throttles.allow(get)] == [True, False]
    assert throttles.allow(post) is True
