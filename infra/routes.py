"""The API's routes and who may call each: the part of the topology (infra/topology.py) that
functions read at run time.

Each API function checks its routes' access rules itself (catalog.core.http.api_handler),
so it imports this module at init. It is kept apart from the rest of the topology, and
ships in the layer alone, because importing the whole topology cost each API function
~13 ms of its cold start (its fifteen frozen dataclasses; make bench). `infra.topology`
re-exports everything here: the CDK stack and the local runner still read one description.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- access rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """Who may call a route: anyone, or a principal holding one of `roles`."""

    public: bool
    roles: tuple[str, ...] = ()
    # Roles that may act only on what they own (the function checks the resource's owner).
    own_only: tuple[str, ...] = ()

    def allows(self, role: str | None) -> bool:
        """Whether a caller with `role` (None: anonymous) passes this rule."""
        return self.public or (role is not None and role in self.roles)


ROLES = ("viewer", "editor", "admin")  # Cognito groups, weakest first
PUBLIC = Access(public=True)


def roles(*names: str, own_only: tuple[str, ...] = ()) -> Access:
    unknown = (set(names) | set(own_only)) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return Access(public=False, roles=names, own_only=own_only)


SIGNED_IN = roles(*ROLES)
WRITERS = roles("editor", "admin")
OWNERS = roles("editor", "admin", own_only=("editor",))  # editors change only their own
ADMINS = roles("admin")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    access: Access
    # (requests per second, burst) for this route alone, tighter than the stage's.
    throttle: tuple[int, int] | None = None


AUTH_THROTTLE = (5, 10)  # sign-in and sign-up endpoints: per second, burst

ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/health", "meta", PUBLIC),
    Route("GET", "/v1/openapi.json", "meta", PUBLIC),
    Route("GET", "/v1/products", "products", PUBLIC),
    Route("POST", "/v1/products", "products", WRITERS),
    Route("POST", "/v1/products/batch", "products", WRITERS),
    Route("GET", "/v1/products/{id}", "products", PUBLIC),
    Route("PATCH", "/v1/products/{id}", "products", OWNERS),
    Route("DELETE", "/v1/products/{id}", "products", OWNERS),
    Route("GET", "/v1/categories", "categories", PUBLIC),
    Route("POST", "/v1/categories", "categories", ADMINS),
    Route("GET", "/v1/categories/{slug}", "categories", PUBLIC),
    Route("PATCH", "/v1/categories/{slug}", "categories", ADMINS),
    Route("DELETE", "/v1/categories/{slug}", "categories", ADMINS),
    Route("POST", "/v1/auth/register", "auth", PUBLIC, throttle=AUTH_THROTTLE),
    Route("POST", "/v1/auth/confirm", "auth", PUBLIC, throttle=AUTH_THROTTLE),
    Route("POST", "/v1/auth/login", "auth", PUBLIC, throttle=AUTH_THROTTLE),
    Route("POST", "/v1/auth/refresh", "auth", PUBLIC, throttle=AUTH_THROTTLE),
    Route("POST", "/v1/auth/logout", "auth", SIGNED_IN, throttle=AUTH_THROTTLE),
    Route("POST", "/v1/auth/password/forgot", "auth", PUBLIC, throttle=AUTH_THROTTLE),
    Route("POST", "/v1/auth/password/reset", "auth", PUBLIC, throttle=AUTH_THROTTLE),
    Route("GET", "/v1/users/me", "users", SIGNED_IN),
    Route("PATCH", "/v1/users/me", "users", SIGNED_IN),
    Route("GET", "/v1/users", "users", ADMINS),
    Route("GET", "/v1/users/{id}", "users", ADMINS),
    Route("PATCH", "/v1/users/{id}", "users", ADMINS),
    Route("DELETE", "/v1/users/{id}", "users", ADMINS),
    # product images
    Route("POST", "/v1/products/{id}/images", "product-images", OWNERS),
    Route("DELETE", "/v1/products/{id}/images/{image_id}", "product-images", OWNERS),
    # webhooks and email subscriptions
    Route("GET", "/v1/webhooks", "webhooks", ADMINS),
    Route("POST", "/v1/webhooks", "webhooks", ADMINS),
    Route("GET", "/v1/webhooks/{id}", "webhooks", ADMINS),
    Route("PATCH", "/v1/webhooks/{id}", "webhooks", ADMINS),
    Route("DELETE", "/v1/webhooks/{id}", "webhooks", ADMINS),
    Route("POST", "/v1/webhooks/{id}/ping", "webhooks", ADMINS),
    Route("GET", "/v1/webhooks/{id}/deliveries", "webhooks", ADMINS),
    Route("GET", "/v1/users/me/subscriptions", "subscriptions", SIGNED_IN),
    Route("PUT", "/v1/users/me/subscriptions", "subscriptions", SIGNED_IN),
)


# --- derived views, used by both runtimes -------------------------------------------------


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
