"""The one description of what exists: functions, routes, tables and event plumbing.

Each capability is one literal in its own module (`products`, `identity`, `images`,
`notifications`, `migrations`, `imports`, `exports`); `merge` joins them into the views
below, refusing a name declared twice.
The routes and their access rules are runtime data of the `catalog` package
(`catalog.http.routes`), read here. Both the CDK stack (`infra/stack/`) and the local runner
(`infra/local/`) are built from this package, and `tests/infra/test_parity.py` proves they
agree. Plain frozen dataclasses only: importing this stays cheap and needs no CDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from catalog.http.routes import (
    AUTH_THROTTLE as AUTH_THROTTLE,
    ROUTES as ROUTES,
    Route as Route,
    paths as paths,
    routes_of as routes_of,
)
from catalog.identity.access import ROLES as ROLES, Access as Access
from infra.topology.exports import EXPORTS
from infra.topology.identity import IDENTITY
from infra.topology.images import (
    IMAGES,
    MEDIA_BUCKET as MEDIA_BUCKET,
    PUBLIC_MEDIA_PREFIX as PUBLIC_MEDIA_PREFIX,
)
from infra.topology.imports import IMPORTS, IMPORTS_BUCKET as IMPORTS_BUCKET
from infra.topology.migrations import DEPLOY_RUNNER as DEPLOY_RUNNER, MIGRATIONS
from infra.topology.model import (
    ABORT_UPLOADS_AFTER_DAYS as ABORT_UPLOADS_AFTER_DAYS,
    BROWSER_UPLOAD_MAX_AGE_S as BROWSER_UPLOAD_MAX_AGE_S,
    BROWSER_UPLOAD_METHODS as BROWSER_UPLOAD_METHODS,
    Bucket as Bucket,
    BucketNotification as BucketNotification,
    Capability as Capability,
    Function as Function,
    Index as Index,
    Queue as Queue,
    QueueSource as QueueSource,
    Secret as Secret,
    StreamSource as StreamSource,
    Subscription as Subscription,
    Table as Table,
    TableAccess as TableAccess,
    Topic as Topic,
    UserPool as UserPool,
    env_name as env_name,
    merge,
)
from infra.topology.notifications import NOTIFICATIONS
from infra.topology.products import PRODUCTS

# In this order: it is the order of the stack's resources and of the dashboard's lines.
CAPABILITIES: tuple[Capability, ...] = (
    PRODUCTS,
    IDENTITY,
    IMAGES,
    NOTIFICATIONS,
    MIGRATIONS,
    IMPORTS,
    EXPORTS,
)

_merged = merge(*CAPABILITIES)
FUNCTIONS = _merged.functions
TABLES = _merged.tables
SECRETS = _merged.secrets
USER_POOL = _merged.user_pool
QUEUES = _merged.queues
TOPICS = _merged.topics
BUCKETS = _merged.buckets
SUBSCRIPTIONS = _merged.subscriptions
STREAMS = _merged.streams
QUEUE_SOURCES = _merged.queue_sources

# Content types API Gateway hands to functions base64-encoded (everything else arrives as text).
BINARY_MEDIA_TYPES: tuple[str, ...] = ("multipart/form-data", "application/octet-stream", "image/*")

SERVICE_NAME = "catalog"
METRICS_NAMESPACE = "Catalog"


# --- derived views, used by both runtimes -------------------------------------------------


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
    bucket_names: Mapping[str, str] | None = None,
    topic_arns: Mapping[str, str] | None = None,
    queue_urls: Mapping[str, str] | None = None,
    images_base_url: str | None = None,
) -> dict[str, str]:
    """The environment a function gets in either runtime.

    `table_names` and `secret_ids` map logical names to physical ones (CDK tokens in the
    cloud, fixed names locally); `settings` holds the stage's settings (CORS, log level...).
    Buckets, topics and queues the function declares are passed the same way (bucket names,
    topic ARNs, queue URLs); a function that declares none needs none of them.
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
        # No pydantic plugins are used: skip their discovery, a scan of every installed
        # package's metadata on the first model built.
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
        **settings,
    }
    if function.init_clients:
        env["CATALOG_INIT_CLIENTS"] = ",".join(function.init_clients)
    env.update({TABLES[t].env_var: table_names[t] for t in function.tables})
    env.update({SECRETS[s].env_var: secret_ids[s] for s in function.secrets})
    env.update({BUCKETS[b].env_var: (bucket_names or {})[b] for b in function.buckets})
    env.update({TOPICS[t].env_var: (topic_arns or {})[t] for t in function.topics})
    env.update({QUEUES[q].env_var: (queue_urls or {})[q] for q in function.queues})
    if images_base_url is not None:
        # Where `images/` keys are served (CloudFront; locally the embedded S3's bucket URL):
        # any product a function returns lists its images' URLs.
        env["IMAGES_BASE_URL"] = images_base_url
    return env


def validate() -> None:
    """Fail fast on a topology that names things that do not exist."""
    paths()
    seen = set()
    for route in ROUTES:
        if route.function not in FUNCTIONS:
            raise ValueError(f"route {route.method} {route.path}: no function {route.function}")
        key = (route.method, route.path)
        if key in seen:
            raise ValueError(f"duplicate route {key}")
        seen.add(key)
    for function in FUNCTIONS.values():
        for table in function.tables:
            if table not in TABLES:
                raise ValueError(f"function {function.name}: no table {table}")
        for secret in function.secrets:
            if secret not in SECRETS:
                raise ValueError(f"function {function.name}: no secret {secret}")
    validate_events()


def validate_events() -> None:
    """Every event source, subscription, notification and grant names what exists."""

    def need(kind: str, name: str, known: Mapping[str, object], where: str) -> None:
        if name not in known:
            raise ValueError(f"{where}: no {kind} {name}")

    for function in FUNCTIONS.values():
        where = f"function {function.name}"
        for bucket_name in function.buckets:
            need("bucket", bucket_name, BUCKETS, where)
        for topic_name in function.topics:
            need("topic", topic_name, TOPICS, where)
        for queue_name in function.queues:
            need("queue", queue_name, QUEUES, where)
    for name, queue in QUEUES.items():
        if name.endswith("-dlq") or queue.dlq_name in QUEUES:
            raise ValueError(f"queue {name}: the name -dlq is reserved for dead-letter queues")
        if not 1 <= queue.max_receives <= 1000:
            raise ValueError(f"queue {name}: max_receives must be 1..1000")
    for stream in STREAMS:
        where = f"stream of {stream.table}"
        need("table", stream.table, TABLES, where)
        need("function", stream.consumer, FUNCTIONS, where)
        if TABLES[stream.table].stream is None:
            raise ValueError(f"{where}: the table has no stream")
        if stream.on_failure is not None:
            need("queue", stream.on_failure, QUEUES, where)
    consumed: set[str] = set()
    for source in QUEUE_SOURCES:
        where = f"queue source {source.queue}"
        need("queue", source.queue, QUEUES, where)
        need("function", source.consumer, FUNCTIONS, where)
        if source.queue in consumed:
            raise ValueError(f"{where}: a queue has one consumer")
        consumed.add(source.queue)
        if not 1 <= source.batch_size <= 10 and source.max_batching_window_s == 0:
            raise ValueError(f"{where}: batches over 10 need a batching window")
        # Lambda refuses a mapping whose queue hides messages for less than the timeout.
        if QUEUES[source.queue].visibility_timeout_s < FUNCTIONS[source.consumer].timeout_s:
            raise ValueError(f"{where}: visibility timeout below the consumer's timeout")
    for subscription in SUBSCRIPTIONS:
        where = f"subscription {subscription.topic} -> {subscription.queue}"
        need("topic", subscription.topic, TOPICS, where)
        need("queue", subscription.queue, QUEUES, where)
    for name, bucket in BUCKETS.items():
        for notification in bucket.notifications:
            need("queue", notification.queue, QUEUES, f"bucket {name}")
