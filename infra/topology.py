"""The one description of what exists: functions, routes, tables and event plumbing.

Both the CDK stack (`infra/stack.py`) and the local runner (`infra/local/`) are built from
this module, and `tests/infra/test_parity.py` proves they expose the same routes. Plain
frozen dataclasses only: importing this must stay cheap and must not need CDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

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


# --- building blocks ----------------------------------------------------------------------

TableAccess = Literal["read", "write"]


@dataclass(frozen=True)
class Function:
    """One Lambda function: its code folder and what it may touch."""

    name: str
    code: str  # folder holding handler.py, relative to the repository root
    memory_mb: int = 256
    timeout_s: int = 10
    tables: dict[str, TableAccess] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    # "verify": may verify tokens itself (optional sign-in on public routes);
    # "admin": also manages users (sign-up, groups, sign-out, deletion).
    user_pool: Literal["verify", "admin"] = "verify"
    layers: tuple[str, ...] = ("core",)
    handler: str = "handler.lambda_handler"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    access: Access
    # (requests per second, burst) for this route alone, tighter than the stage's.
    throttle: tuple[int, int] | None = None


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    partition_key: str
    sort_key: str | None = None
    indexes: tuple[Index, ...] = ()
    stream: Literal["NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY"] | None = None
    ttl_attribute: str | None = None

    @property
    def env_var(self) -> str:
        return f"TABLE_{self.name.upper()}"


@dataclass(frozen=True)
class Secret:
    """A generated secret the functions read at run time (Secrets Manager in every runtime)."""

    name: str
    env_var: str
    description: str


@dataclass(frozen=True)
class UserPool:
    """The Cognito user pool: users sign in with their email; groups are the roles."""

    name: str
    groups: tuple[str, ...]
    default_group: str
    # OAuth scope every Cognito access token carries; API Gateway's authorizer asks for it,
    # which makes it accept access tokens (not id tokens).
    access_scope: str = "aws.cognito.signin.user.admin"


USER_POOL = UserPool("users", groups=ROLES, default_group="viewer")


# Event sources, buckets, topics and queues are filled in by later capabilities
# (images, change events); their types live here so both runtimes read one list.


@dataclass(frozen=True)
class StreamSource:
    table: str
    consumer: str
    batch_size: int = 100
    bisect_on_error: bool = True
    max_retries: int = 5
    on_failure: str | None = None


# --- the catalog --------------------------------------------------------------------------

TABLES: dict[str, Table] = {
    "products": Table(
        name="products",
        partition_key="pk",
        sort_key="sk",
        indexes=(
            # Products by status, newest first: gsi1pk is STATUS#<status> on product items
            # only (a sparse index: SKU guards are not in it), gsi1sk the time-sortable id.
            Index("gsi1", partition_key="gsi1pk", sort_key="gsi1sk"),
            # Products of one category and status, by creation: CAT#<category>#<status>.
            Index("gsi2", partition_key="gsi2pk", sort_key="gsi2sk"),
            # The same two partitions ordered by price (sort key <cents, 10 digits>#<id>),
            # so price order and price ranges are key conditions, not filters.
            Index("gsi3", partition_key="gsi1pk", sort_key="gsi3sk"),
            Index("gsi4", partition_key="gsi2pk", sort_key="gsi3sk"),
            # ... and by name (sort key: the name without case or accents, then #<id>).
            Index("gsi5", partition_key="gsi1pk", sort_key="gsi5sk"),
            Index("gsi6", partition_key="gsi2pk", sort_key="gsi5sk"),
        ),
        stream="NEW_AND_OLD_IMAGES",
    ),
    # Powertools idempotency records (Idempotency-Key on POSTs), expired by DynamoDB TTL.
    "idempotency": Table(name="idempotency", partition_key="id", ttl_attribute="expiration"),
    "users": Table(
        name="users",
        partition_key="pk",
        sort_key="sk",
        indexes=(
            # Every profile by email, for the admin listing (sparse: profiles only).
            Index("gsi1", partition_key="gsi1pk", sort_key="gsi1sk"),
        ),
        stream="NEW_AND_OLD_IMAGES",
    ),
}

SECRETS: dict[str, Secret] = {
    "cursor-key": Secret(
        "cursor-key", env_var="CURSOR_SECRET_ID", description="HMAC key of pagination cursors"
    ),
}

FUNCTIONS: dict[str, Function] = {
    "products": Function(
        "products",
        code="functions/products",
        memory_mb=256,
        tables={"products": "write", "idempotency": "write"},
        secrets=("cursor-key",),
    ),
    "meta": Function("meta", code="functions/meta", memory_mb=128, tables={"products": "read"}),
    "categories": Function(
        "categories", code="functions/categories", memory_mb=256, tables={"products": "write"}
    ),
    "auth": Function(
        "auth", code="functions/auth", memory_mb=256, tables={"users": "write"}, user_pool="admin"
    ),
    "users": Function(
        "users", code="functions/users", memory_mb=256, tables={"users": "write"}, user_pool="admin"
    ),
}

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
)

STREAMS: tuple[StreamSource, ...] = ()
BUCKETS: tuple[str, ...] = ()
TOPICS: tuple[str, ...] = ()
QUEUES: tuple[str, ...] = ()

# Content types API Gateway hands to functions base64-encoded (everything else arrives as text).
BINARY_MEDIA_TYPES: tuple[str, ...] = ("multipart/form-data", "application/octet-stream", "image/*")

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


SERVICE_NAME = "catalog"
METRICS_NAMESPACE = "Catalog"


@dataclass(frozen=True)
class UserPoolRefs:
    """Where a runtime's user pool is: ids, the issuer tokens carry, and its JWKS URL.

    The issuer and the JWKS URL are separate settings: moto issues tokens with the AWS
    issuer (`https://cognito-idp.<region>.amazonaws.com/<pool>`) but serves its keys locally.
    """

    pool_id: str
    client_id: str
    issuer: str
    jwks_url: str


def function_environment(
    function: Function,
    *,
    stage: str,
    table_names: dict[str, str],
    secret_ids: dict[str, str],
    user_pool: UserPoolRefs,
    settings: dict[str, str],
) -> dict[str, str]:
    """The environment a function gets in either runtime.

    `table_names` and `secret_ids` map logical names to physical ones (CDK tokens in the
    cloud, fixed names locally); `settings` holds the stage's settings (CORS, log level...).
    """
    env = {
        "STAGE": stage,
        "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "COGNITO_USER_POOL_ID": user_pool.pool_id,
        "COGNITO_CLIENT_ID": user_pool.client_id,
        "COGNITO_ISSUER": user_pool.issuer,
        "COGNITO_JWKS_URL": user_pool.jwks_url,
        "COGNITO_ACCESS_SCOPE": USER_POOL.access_scope,
        **settings,
    }
    env.update({TABLES[t].env_var: table_names[t] for t in function.tables})
    env.update({SECRETS[s].env_var: secret_ids[s] for s in function.secrets})
    return env


def validate() -> None:
    """Fail fast on a topology that names things that do not exist."""
    paths()
    for route in ROUTES:
        if route.function not in FUNCTIONS:
            raise ValueError(f"route {route.method} {route.path}: no function {route.function}")
    for function in FUNCTIONS.values():
        for table in function.tables:
            if table not in TABLES:
                raise ValueError(f"function {function.name}: no table {table}")
        for secret in function.secrets:
            if secret not in SECRETS:
                raise ValueError(f"function {function.name}: no secret {secret}")
    seen = set()
    for route in ROUTES:
        key = (route.method, route.path)
        if key in seen:
            raise ValueError(f"duplicate route {key}")
        seen.add(key)
