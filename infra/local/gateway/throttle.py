"""The stage's throttling, as API Gateway applies it: a token bucket per method.

A REST API stage's limits apply at the method level: every method (one route, or a path's
`ANY` fallback) has its own bucket holding at most `burst` tokens and refilled at `rate`
tokens per second; a request takes one token, and finding none is answered 429 THROTTLED
(the gateway response, with `Retry-After`). The limits are the stage's (`throttle_rate`,
`throttle_burst`) except on routes that declare their own (the auth routes: 5/s, burst 10),
which is what the CDK stack's method settings say (infra/stack/api.py). Buckets start full,
as a fresh stage lets a first burst through. Limits across the account and per client (usage
plans, WAF rate rules) are not played here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from infra import topology
from infra.local.gateway.routes import ANY, GatewayRoute
from infra.stages import Stage


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def take(self) -> bool:
        """Whether a request may pass now (it then used a token)."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1 - 1e-9:  # a whole token, but for float rounding of the refill
            self._tokens -= 1
            return True
        return False


class Throttles:
    """The buckets of one gateway, made on a method's first request."""

    def __init__(
        self,
        stage: Stage,
        per_route: dict[tuple[str, str], tuple[int, int]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.default = (stage.throttle_rate, stage.throttle_burst)
        self.per_route = per_route  # (method, path) -> (rate, burst) where a route sets its own
        self._clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def limits(self, route: GatewayRoute) -> tuple[int, int]:
        return self.per_route.get((route.method, route.path), self.default)

    def allow(self, route: GatewayRoute) -> bool:
        """Whether `route`'s method has a token for this request (taking it)."""
        key = (route.method, route.path)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                rate, burst = self.limits(route)
                bucket = self._buckets[key] = TokenBucket(rate, burst, self._clock)
            return bucket.take()


def route_throttles() -> dict[tuple[str, str], tuple[int, int]]:
    """The routes of the topology that declare their own limits (never an ANY fallback)."""
    return {
        (r.method, r.path): r.throttle
        for r in topology.ROUTES
        if r.throttle is not None and r.method != ANY
    }
