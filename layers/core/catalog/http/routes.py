"""The API's routes: method, path, the function serving it, who may call it.

This is the one declaration of a route. Each route names its `operation`, the handler
function that serves it: `catalog.http.api.Api.route` binds that function to the route's
method and path, so a handler never restates them. The CDK stack and the local gateway read
the same tuple (through `infra.topology`); a function reads only its own routes at init.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from catalog.identity.access import ADMINS, OWNERS, PUBLIC, SIGNED_IN, WRITERS, Access

_DAY_S = 86400
_EPOCH = date(1970, 1, 1)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


_FIELD = re.compile(r"(query|body)\.[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Deprecation:
    """A route, or one of its fields, on its way out (README, "Versioning and deprecation"):
    deprecated since `since`, refused with 410 Gone from `sunset` on (00:00 UTC), replaced
    by `successor` (a path of this API, e.g. `/v2/products`). Until then its answers say so
    (RFC 9745's `Deprecation`, RFC 8594's `Sunset`, a `successor-version` link), and the
    OpenAPI document marks it `deprecated` with `x-sunset`.

    `field` names a field instead of the whole route: `query.<parameter>` or `body.<key>`
    (a key of the JSON object body); a request that sends it gets the headers, or the 410.
    """

    since: date
    sunset: date
    successor: str | None = None
    field: str | None = None

    def __post_init__(self) -> None:
        if self.sunset <= self.since:
            raise ValueError(f"a sunset ({self.sunset}) comes after the deprecation ({self.since})")
        if self.successor is not None and not self.successor.startswith("/"):
            raise ValueError(f"a successor is a path of this API: {self.successor!r}")
        if self.field is not None and not _FIELD.fullmatch(self.field):
            raise ValueError(f"a deprecated field is query.<name> or body.<name>: {self.field!r}")

    @property
    def sunset_at(self) -> int:
        """The sunset, in seconds since the epoch."""
        return (self.sunset - _EPOCH).days * _DAY_S

    @property
    def name(self) -> str:
        """The field's name in the request (the route's deprecations have none)."""
        return (self.field or "").partition(".")[2]

    def headers(self, prefix: str = "") -> dict[str, list[str]]:
        return deprecation_headers((self,), prefix)


def deprecation_headers(
    deprecations: Iterable[Deprecation], prefix: str = ""
) -> dict[str, list[str]]:
    """What an answer carries for the deprecations that apply to its request: the earliest
    deprecation and sunset (each header takes one date), a link to each successor.
    `prefix` is what the client's path has before the API's own (a stage), so that the
    links resolve."""
    applying = list(deprecations)
    since = min(d.since for d in applying)
    sunset = min(d.sunset for d in applying)
    headers = {
        "Deprecation": [f"@{(since - _EPOCH).days * _DAY_S}"],
        "Sunset": [_http_date(sunset)],
    }
    successors = dict.fromkeys(d.successor for d in applying if d.successor is not None)
    if successors:
        headers["Link"] = [f'<{prefix}{path}>; rel="successor-version"' for path in successors]
    return headers


def _http_date(day: date) -> str:
    """RFC 9110's IMF-fixdate of a day's midnight, UTC (no locale, no email.utils import)."""
    weekday, month = _WEEKDAYS[day.weekday()], _MONTHS[day.month - 1]
    return f"{weekday}, {day.day:02d} {month} {day.year} 00:00:00 GMT"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway template, e.g. /v1/products/{id}
    function: str  # the topology function serving it
    operation: str  # the name of the handler function bound to it
    access: Access
    # (requests per second, burst) for this route alone, tighter than the stage's.
    throttle: tuple[int, int] | None = None
    # On its way out: headers until the sunset, 410 Gone after (catalog.http.pipeline).
    deprecated: Deprecation | None = None
    # Fields on their way out, each a Deprecation with its `field`.
    deprecated_fields: tuple[Deprecation, ...] = ()

    def __post_init__(self) -> None:
        if self.deprecated is not None and self.deprecated.field is not None:
            raise ValueError(f"{self.path}: a field's deprecation goes in deprecated_fields")
        if any(d.field is None for d in self.deprecated_fields):
            raise ValueError(f"{self.path}: each of deprecated_fields names its field")


AUTH_THROTTLE = (5, 10)  # sign-in and sign-up endpoints: per second, burst


def _auth(method: str, path: str, operation: str, access: Access = PUBLIC) -> Route:
    return Route(method, path, "auth", operation, access, throttle=AUTH_THROTTLE)


ROUTES: tuple[Route, ...] = (
    # meta
    Route("GET", "/v1/health", "meta", "health", PUBLIC),
    Route("GET", "/v1/openapi.json", "meta", "openapi", PUBLIC),
    Route("GET", "/v1/docs", "meta", "docs_page", PUBLIC),
    Route("GET", "/v1/docs/{asset}", "meta", "docs_asset", PUBLIC),
    # products and categories
    Route("GET", "/v1/products", "products", "list_products", PUBLIC),
    Route("POST", "/v1/products", "products", "create_product", WRITERS),
    Route("POST", "/v1/products/batch", "products", "batch", WRITERS),
    Route("GET", "/v1/products/{id}", "products", "get_product", PUBLIC),
    Route("PATCH", "/v1/products/{id}", "products", "update_product", OWNERS),
    Route("DELETE", "/v1/products/{id}", "products", "delete_product", OWNERS),
    Route("GET", "/v1/categories", "categories", "list_categories", PUBLIC),
    Route("POST", "/v1/categories", "categories", "create_category", ADMINS),
    Route("GET", "/v1/categories/{slug}", "categories", "get_category", PUBLIC),
    Route("PATCH", "/v1/categories/{slug}", "categories", "update_category", ADMINS),
    Route("DELETE", "/v1/categories/{slug}", "categories", "delete_category", ADMINS),
    # identity: sign-up and sign-in, profiles and their administration
    _auth("POST", "/v1/auth/register", "register"),
    _auth("POST", "/v1/auth/confirm", "confirm"),
    _auth("POST", "/v1/auth/login", "login"),
    _auth("POST", "/v1/auth/refresh", "refresh"),
    _auth("POST", "/v1/auth/logout", "logout", SIGNED_IN),
    _auth("POST", "/v1/auth/password/forgot", "forgot_password"),
    _auth("POST", "/v1/auth/password/reset", "reset_password"),
    Route("GET", "/v1/users/me", "users", "get_me", SIGNED_IN),
    Route("PATCH", "/v1/users/me", "users", "update_me", SIGNED_IN),
    Route("GET", "/v1/users", "users", "list_users", ADMINS),
    Route("GET", "/v1/users/{id}", "users", "get_user", ADMINS),
    Route("PATCH", "/v1/users/{id}", "users", "administer_user", ADMINS),
    Route("DELETE", "/v1/users/{id}", "users", "delete_user", ADMINS),
    # product images
    Route("POST", "/v1/products/{id}/images", "product-images", "request_upload", OWNERS),
    Route(
        "DELETE", "/v1/products/{id}/images/{image_id}", "product-images", "delete_image", OWNERS
    ),
    # product imports
    Route("POST", "/v1/imports", "imports", "request_import", WRITERS),
    Route("GET", "/v1/imports", "imports", "list_imports", WRITERS),
    Route("GET", "/v1/imports/{id}", "imports", "get_import", WRITERS),
    # exports: background jobs writing products to a file (editors: their own products)
    Route("POST", "/v1/exports", "exports", "start_export", WRITERS),
    Route("GET", "/v1/exports", "exports", "list_exports", WRITERS),
    Route("GET", "/v1/exports/{id}", "exports", "get_export", OWNERS),
    # webhooks and email subscriptions
    Route("GET", "/v1/webhooks", "webhooks", "list_webhooks", ADMINS),
    Route("POST", "/v1/webhooks", "webhooks", "create_webhook", ADMINS),
    Route("GET", "/v1/webhooks/{id}", "webhooks", "get_webhook", ADMINS),
    Route("PATCH", "/v1/webhooks/{id}", "webhooks", "update_webhook", ADMINS),
    Route("DELETE", "/v1/webhooks/{id}", "webhooks", "delete_webhook", ADMINS),
    Route("POST", "/v1/webhooks/{id}/ping", "webhooks", "ping_webhook", ADMINS),
    Route("GET", "/v1/webhooks/{id}/deliveries", "webhooks", "list_deliveries", ADMINS),
    Route("GET", "/v1/users/me/subscriptions", "subscriptions", "get_subscriptions", SIGNED_IN),
    Route("PUT", "/v1/users/me/subscriptions", "subscriptions", "put_subscriptions", SIGNED_IN),
)


def paths() -> dict[str, str]:
    """Each distinct path and the function that owns it.

    Both runtimes also route every *other* method on a known path to its owner (an `ANY`
    method in API Gateway), so that the function answers 405 with `Allow` and handles CORS
    preflight, instead of API Gateway's bare 403.
    """
    owners: dict[str, str] = {}
    for route in ROUTES:
        owner = owners.setdefault(route.path, route.function)
        if owner != route.function:
            raise ValueError(f"{route.path} is served by both {owner} and {route.function}")
    return owners


def routes_of(function: str) -> tuple[Route, ...]:
    return tuple(r for r in ROUTES if r.function == function)
