"""The local gateway's route table: the topology's routes plus an ANY fallback per path."""

from __future__ import annotations

import re
from dataclasses import dataclass

from catalog.identity.access import PUBLIC, Access
from infra import topology
from infra.local.gateway.request import METHODS

ANY = "ANY"


@dataclass(frozen=True)
class GatewayRoute:
    method: str  # an HTTP method, or ANY
    path: str  # API Gateway template, e.g. /v1/products/{id}
    function: str
    pattern: re.Pattern[str]
    access: Access = PUBLIC

    @property
    def authorized(self) -> bool:
        """Whether the Cognito authorizer guards this method (as in the CDK stack)."""
        return not self.access.public


def _compile(path: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
    return re.compile(f"^{regex}$")


def route_table() -> list[GatewayRoute]:
    """Every (method, path) -> function this gateway serves, derived from the topology."""
    routes = [
        GatewayRoute(r.method, r.path, r.function, _compile(r.path), r.access)
        for r in topology.ROUTES
    ]
    routes += [
        GatewayRoute(ANY, path, owner, _compile(path)) for path, owner in topology.paths().items()
    ]
    return routes


def specificity(route: GatewayRoute) -> tuple[int, int]:
    """The sort key that puts the route API Gateway would pick first."""
    # API Gateway prefers literal path segments over {parameters}, then a method over ANY.
    literal = sum(1 for part in route.path.split("/") if part and not part.startswith("{"))
    return (-literal, 1 if route.method == ANY else 0)


def match(
    routes: list[GatewayRoute], method: str, path: str
) -> tuple[GatewayRoute, dict[str, str]] | None:
    """The first of `routes` (sorted by `specificity`) serving `method` on `path`.

    `ANY` is API Gateway's: the seven REST methods, so TRACE or FOO match no route at all.
    """
    for route in routes:
        found = route.pattern.match(path)
        if found and (route.method == method or (route.method == ANY and method in METHODS)):
            return route, found.groupdict()
    return None
