"""The one description of what exists: functions, routes, tables and event plumbing.

Both the CDK stack (`infra/stack.py`) and the local runner (`infra/local/`) are built from
this module, and `tests/infra/test_parity.py` proves they expose the same routes. Plain
frozen dataclasses only: importing this must stay cheap and must not need CDK. The routes
and their access rules are defined in `infra/routes.py` (functions read them at run time)
and re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from infra.routes import (  # routes and access rules: see infra/routes.py
    ADMINS as ADMINS,
    AUTH_THROTTLE as AUTH_THROTTLE,
    OWNERS as OWNERS,
    PUBLIC as PUBLIC,
    ROLES as ROLES,
    ROUTES as ROUTES,
    SIGNED_IN as SIGNED_IN,
    WRITERS as WRITERS,
    Access as Access,
    Route as Route,
    paths as paths,
    roles as roles,
    routes_of as routes_of,
)

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
    # Sends email through SES (from the stage's sender address).
    sends_email: bool = False
    # Event plumbing the function may touch (env vars BUCKET_/TOPIC_/QUEUE_<NAME>):
    # buckets with read or write access, topics it publishes to, queues it sends to (and
    # whose messages' visibility it may change, to schedule a retry).
    buckets: dict[str, TableAccess] = field(default_factory=dict)
    topics: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()

    @property
    def handler_file(self) -> str:
        """The handler's module file, relative to the repository root."""
        return f"{self.code}/{self.handler.rsplit('.', 1)[0]}.py"

    @property
    def handler_attribute(self) -> str:
        """The name of the handler function in that module."""
        return self.handler.rsplit(".", 1)[1]


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


# --- event plumbing -----------------------------------------------------------------------
# Queues are the one way events reach consumer functions (except a table's stream, read by
# its consumer directly), so every event gets retries, a dead-letter queue and an alarm.


def env_name(prefix: str, logical: str) -> str:
    """`QUEUE`, `image-uploads` -> `QUEUE_IMAGE_UPLOADS`: the variable naming a resource."""
    return f"{prefix}_{logical.upper().replace('-', '_')}"


@dataclass(frozen=True)
class StreamSource:
    """A table's stream -> consumer function (Lambda event source mapping)."""

    table: str
    consumer: str
    batch_size: int = 100
    # A failing batch is split in halves until the failing record is alone, so one bad
    # record holds up (and re-sends) as few good ones as possible.
    bisect_on_error: bool = True
    max_retries: int = 5
    # The queue that receives the failed batch's description (shard, sequence numbers)
    # once its retries are used up; it has an alarm like every dead-letter queue.
    on_failure: str | None = None


@dataclass(frozen=True)
class Queue:
    """An SQS queue with its dead-letter queue `<name>-dlq` (redrive after max_receives)."""

    name: str  # logical name, e.g. "webhooks", "image-uploads"
    visibility_timeout_s: int = 60  # >= 6x the consumer's timeout, as AWS advises
    max_receives: int = 5  # then moved to its dead-letter queue "<name>-dlq"
    retention_days: int = 14

    @property
    def dlq_name(self) -> str:
        return f"{self.name}-dlq"

    @property
    def env_var(self) -> str:
        return env_name("QUEUE", self.name)


@dataclass(frozen=True)
class QueueSource:
    """SQS event source mapping: queue -> consumer function."""

    queue: str
    consumer: str  # a FUNCTIONS key
    batch_size: int = 10
    max_batching_window_s: int = 0  # ReportBatchItemFailures is always on


@dataclass(frozen=True)
class Topic:
    name: str

    @property
    def env_var(self) -> str:
        return env_name("TOPIC", self.name)


@dataclass(frozen=True)
class Subscription:
    """SNS topic -> SQS queue, raw message delivery."""

    topic: str
    queue: str
    filter_policy: dict[str, list[str]] | None = None  # on message attributes


@dataclass(frozen=True)
class BucketNotification:
    """S3 ObjectCreated under `prefix` -> queue."""

    prefix: str
    queue: str


@dataclass(frozen=True)
class Bucket:
    name: str
    notifications: tuple[BucketNotification, ...] = ()
    expire_prefixes: dict[str, int] = field(default_factory=dict)  # prefix -> days (lifecycle)

    @property
    def env_var(self) -> str:
        return env_name("BUCKET", self.name)


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


# Event plumbing. Each capability adds its entries in a block of its own below these.
STREAMS: tuple[StreamSource, ...] = ()
QUEUES: dict[str, Queue] = {}
QUEUE_SOURCES: tuple[QueueSource, ...] = ()
TOPICS: dict[str, Topic] = {}
SUBSCRIPTIONS: tuple[Subscription, ...] = ()
BUCKETS: dict[str, Bucket] = {}

# --- product images -----------------------------------------------------------------------
# Uploads go straight to S3 with a presigned form; S3 -> queue -> the images function turns
# them into renditions. Only `images/` is ever served (CloudFront; locally the embedded S3).
MEDIA_BUCKET = "media"
PUBLIC_MEDIA_PREFIX = "images/"

FUNCTIONS |= {
    # The image routes: a function of their own, so only it holds the bucket's rights and
    # the products function stays as small as it was.
    "product-images": Function(
        "product-images",
        code="functions/product_images",
        memory_mb=256,
        tables={"products": "write"},
        buckets={MEDIA_BUCKET: "write"},
    ),
    # Decoding a 40-megapixel photo takes about 160 MB, and Lambda's CPU share grows with
    # memory; Pillow comes in its own layer.
    "images": Function(
        "images",
        code="functions/images",
        memory_mb=1024,
        timeout_s=60,
        tables={"products": "write"},
        buckets={MEDIA_BUCKET: "write"},
        layers=("core", "images"),
    ),
}
QUEUES |= {
    "image-uploads": Queue("image-uploads", visibility_timeout_s=6 * 60, max_receives=5),
    # Products-stream batches the images function gave up on (their files stay behind).
    "image-cleanup-failures": Queue("image-cleanup-failures"),
}
QUEUE_SOURCES += (QueueSource("image-uploads", consumer="images", batch_size=5),)
# Deleting a product removes its image records in the same write; its files go when the
# images function reads the removal from the table's stream.
STREAMS += (
    StreamSource(
        table="products", consumer="images", batch_size=100, on_failure="image-cleanup-failures"
    ),
)
BUCKETS |= {
    MEDIA_BUCKET: Bucket(
        MEDIA_BUCKET,
        notifications=(BucketNotification(prefix="uploads/", queue="image-uploads"),),
        # Forms live 5 minutes and uploads are deleted once processed: what stays is stale.
        expire_prefixes={"uploads/": 1},
    ),
}

# --- change events and notifications ---------------------------------------------------------
# products stream -> publisher -> product-changes topic -> webhook-events / email-events queues.
# A webhook delivery is its own message (webhook-deliveries), so each receiver retries alone.

TABLES = {
    **TABLES,
    # Webhooks, their recent deliveries (expired by TTL) and users' email subscriptions.
    "notifications": Table(
        name="notifications",
        partition_key="pk",
        sort_key="sk",
        # Every webhook (sparse: webhook items only), for dispatching and the admin listing.
        indexes=(Index("gsi1", partition_key="gsi1pk", sort_key="gsi1sk"),),
        ttl_attribute="expires_at",
    ),
}
FUNCTIONS = {
    **FUNCTIONS,
    "publisher": Function(
        "publisher", code="functions/publisher", timeout_s=30, topics=("product-changes",)
    ),
    "webhooks": Function(
        "webhooks",
        code="functions/webhooks",
        tables={"notifications": "write"},
        queues=("webhook-deliveries",),
    ),
    "webhook-dispatch": Function(
        "webhook-dispatch",
        code="functions/webhook_dispatch",
        timeout_s=30,
        tables={"notifications": "read"},
        queues=("webhook-deliveries",),
    ),
    # Posts one event to one receiver per message: 5 messages x 5 s receiver timeout < 30 s.
    "webhook-delivery": Function(
        "webhook-delivery",
        code="functions/webhook_delivery",
        timeout_s=30,
        tables={"notifications": "write"},
        queues=("webhook-deliveries",),
    ),
    "subscriptions": Function(
        "subscriptions",
        code="functions/subscriptions",
        tables={"notifications": "write", "products": "read"},
    ),
    "emails": Function(
        "emails",
        code="functions/emails",
        timeout_s=30,
        tables={"notifications": "write", "users": "read"},
        sends_email=True,
    ),
}
TOPICS = {**TOPICS, "product-changes": Topic("product-changes")}
QUEUES = {
    **QUEUES,
    # The publisher's stream batches that failed all retries (described, not the records).
    "publisher-failures": Queue("publisher-failures"),
    "webhook-events": Queue("webhook-events", visibility_timeout_s=180),
    # Retries are scheduled by the consumer (growing delays, stage setting); after
    # max_receives attempts the delivery is in the DLQ.
    "webhook-deliveries": Queue("webhook-deliveries", visibility_timeout_s=180, max_receives=8),
    "email-events": Queue("email-events", visibility_timeout_s=180),
}
STREAMS = (
    *STREAMS,
    # Publishing fails only when SNS does (transiently): retry long before giving up.
    StreamSource(
        "products", "publisher", batch_size=100, max_retries=10, on_failure="publisher-failures"
    ),
)
SUBSCRIPTIONS = (
    *SUBSCRIPTIONS,
    Subscription("product-changes", "webhook-events"),
    Subscription(
        "product-changes",
        "email-events",
        filter_policy={"type": ["product.published", "product.price_changed"]},
    ),
)
QUEUE_SOURCES = (
    *QUEUE_SOURCES,
    QueueSource("webhook-events", "webhook-dispatch", batch_size=10),
    QueueSource("webhook-deliveries", "webhook-delivery", batch_size=5),
    QueueSource("email-events", "emails", batch_size=10),
)

# Content types API Gateway hands to functions base64-encoded (everything else arrives as text).
BINARY_MEDIA_TYPES: tuple[str, ...] = ("multipart/form-data", "application/octet-stream", "image/*")

# --- derived views, used by both runtimes -------------------------------------------------


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
        # package's metadata on the first model built (tens of ms of each cold start).
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
        **settings,
    }
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
        if name != queue.name:
            raise ValueError(f"queue {name} is keyed under another name ({queue.name})")
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
        if name != bucket.name:
            raise ValueError(f"bucket {name} is keyed under another name ({bucket.name})")
        for notification in bucket.notifications:
            need("queue", notification.queue, QUEUES, f"bucket {name}")
