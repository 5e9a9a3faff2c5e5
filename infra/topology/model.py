"""The building blocks of the topology: plain frozen dataclasses, cheap to import, no CDK."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

# "migrate": what "write" allows, and Scan: the data migrations read every item of a table
# (parallel segmented Scan); no other function lists a whole table.
TableAccess = Literal["read", "write", "migrate"]


def env_name(prefix: str, logical: str) -> str:
    """`QUEUE`, `image-uploads` -> `QUEUE_IMAGE_UPLOADS`: the variable naming a resource."""
    return f"{prefix}_{logical.upper().replace('-', '_')}"


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
    # AWS clients its init creates, before its modules load (catalog.runtime): those its
    # first request needs.
    init_clients: tuple[Literal["dynamodb", "cognito-idp"], ...] = ()
    # Files of the code folder that `make build` writes (not committed): the stack refuses
    # to synthesize the function without them.
    built: tuple[str, ...] = ()

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


# --- event plumbing -----------------------------------------------------------------------
# Queues are the one way events reach consumer functions (except a table's stream, read by
# its consumer directly), so every event gets retries, a dead-letter queue and an alarm.


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
    consumer: str  # a function name
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


# Multipart uploads a worker left unfinished (a crash after its last retry) are dropped by
# each bucket's lifecycle rules after this many days.
ABORT_UPLOADS_AFTER_DAYS = 1


# What a bucket taking browser uploads allows cross-origin (presigned POST forms sent by
# pages of the stage's CORS origins): the method, any header, preflights cached this long.
BROWSER_UPLOAD_METHODS = ("POST",)
BROWSER_UPLOAD_MAX_AGE_S = 3000


@dataclass(frozen=True)
class Bucket:
    name: str
    notifications: tuple[BucketNotification, ...] = ()
    expire_prefixes: dict[str, int] = field(default_factory=dict)  # prefix -> days (lifecycle)
    # Presigned POST forms sent by browsers: CORS for BROWSER_UPLOAD_METHODS from the
    # stage's origins, in the stack and locally alike.
    browser_uploads: bool = False

    @property
    def env_var(self) -> str:
        return env_name("BUCKET", self.name)


# --- capabilities -------------------------------------------------------------------------


@dataclass(frozen=True)
class Capability:
    """What one capability of the catalog adds: its functions and the resources they use.

    Each capability is one literal in its own module (infra/topology/<capability>.py); its
    routes are in `catalog.http.routes`, keyed by function. `merge` joins them.
    """

    name: str
    functions: tuple[Function, ...] = ()
    tables: tuple[Table, ...] = ()
    secrets: tuple[Secret, ...] = ()
    user_pool: UserPool | None = None
    queues: tuple[Queue, ...] = ()
    topics: tuple[Topic, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    streams: tuple[StreamSource, ...] = ()
    queue_sources: tuple[QueueSource, ...] = ()


@dataclass(frozen=True)
class Topology:
    """Every capability's declarations, keyed by name (the order of declaration kept)."""

    functions: dict[str, Function]
    tables: dict[str, Table]
    secrets: dict[str, Secret]
    user_pool: UserPool
    queues: dict[str, Queue]
    topics: dict[str, Topic]
    buckets: dict[str, Bucket]
    subscriptions: tuple[Subscription, ...]
    streams: tuple[StreamSource, ...]
    queue_sources: tuple[QueueSource, ...]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_N = TypeVar("_N", bound=_Named)


def _by_name(kind: str, items: Iterable[_N]) -> dict[str, _N]:
    found: dict[str, _N] = {}
    for item in items:
        if item.name in found:
            raise ValueError(f"{kind} {item.name!r} is declared twice")
        found[item.name] = item
    return found


def merge(*capabilities: Capability) -> Topology:
    """One topology from the capabilities, refusing a name declared twice (in one kind)."""
    pools = [c.user_pool for c in capabilities if c.user_pool is not None]
    if len(pools) != 1:
        raise ValueError(f"exactly one capability declares the user pool, not {len(pools)}")
    return Topology(
        functions=_by_name("function", (f for c in capabilities for f in c.functions)),
        tables=_by_name("table", (t for c in capabilities for t in c.tables)),
        secrets=_by_name("secret", (s for c in capabilities for s in c.secrets)),
        user_pool=pools[0],
        queues=_by_name("queue", (q for c in capabilities for q in c.queues)),
        topics=_by_name("topic", (t for c in capabilities for t in c.topics)),
        buckets=_by_name("bucket", (b for c in capabilities for b in c.buckets)),
        subscriptions=tuple(s for c in capabilities for s in c.subscriptions),
        streams=tuple(s for c in capabilities for s in c.streams),
        queue_sources=tuple(s for c in capabilities for s in c.queue_sources),
    )
