"""AWS clients (other than DynamoDB's, see catalog.core.dynamo): botocore's, from one session.

boto3's `client()` is botocore's behind a default session, and importing boto3 brings its
resource layer with it; a function needs neither (a smaller peak memory and a faster first
request). All clients come from one session, so botocore reads its endpoint and partition
data once per function. Region, credentials and endpoint come from the environment, as
with boto3 (AWS_ENDPOINT_URL locally).
"""

from __future__ import annotations

import os
import threading
import weakref
from functools import cache
from typing import Any

from botocore.config import Config
from botocore.session import Session, get_session

from catalog import runtime

_creating = threading.Lock()  # a botocore session is not safe to use from several threads

# How every client of a function talks to AWS, DynamoDB's included (catalog.core.dynamo):
# - Connections are kept alive and reused (botocore's pooled HTTP/1.1 keep-alive; clients
#   live as long as the instance), with TCP keepalive probes so a connection that went idle
#   while the sandbox was frozen is found dead by the OS rather than by a timeout.
# - Timeouts fit inside a 10 s function: connecting takes milliseconds within a region, and
#   DynamoDB answers in milliseconds, so a request stuck for 2 s is abandoned and retried
#   rather than waited on for botocore's 60 s (pynamodb's 30 s). Other services (Cognito's
#   sign-in, SES) get 5 s between bytes.
# - Retries in `standard` mode (exponential backoff with jitter, a retry quota that stops
#   retry storms), 3 attempts in all. Not `adaptive`: its client-side rate limiter learns per
#   client, and an instance serving one request at a time has too little traffic to learn.
CONNECT_TIMEOUT_S = 1.0
READ_TIMEOUT_S = 5.0
DYNAMODB_READ_TIMEOUT_S = 2.0
RETRIES: dict[str, Any] = {"mode": "standard", "total_max_attempts": 3}
MAX_POOL_CONNECTIONS = 10  # botocore's default: ample for one request at a time


def read_timeout(cloud_s: float) -> float:
    """`cloud_s`, unless the stage sets its own (CATALOG_AWS_READ_TIMEOUT_S, 0: none; the local
    stage's, whose moto copies a table for each transaction and slows down under load)."""
    return float(os.environ.get("CATALOG_AWS_READ_TIMEOUT_S") or 0) or cloud_s


def config(**changes: Any) -> Config:
    """The clients' configuration (above), with a service's own `changes`."""
    return Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=read_timeout(READ_TIMEOUT_S),
        retries=dict(RETRIES),
        max_pool_connections=MAX_POOL_CONNECTIONS,
        tcp_keepalive=True,
    ).merge(Config(**changes))


@cache
def _session() -> Session:
    return get_session()


_created_at_init: dict[str, Any] = {}
_clients: weakref.WeakSet[Any] = weakref.WeakSet()  # every client made here, while in use


def client(service: str, changes: Config | None = None) -> Any:
    """A new client for `service` with `config()` and `changes` (or, without changes, the
    one the function's init created); callers keep theirs (each caches it)."""
    with _creating:
        if changes is None and service in _created_at_init:
            return _created_at_init.pop(service)
        settings = config() if changes is None else config().merge(changes)
        created = _session().create_client(service, config=settings)
        _clients.add(created)
        return created


def create_now(service: str) -> None:
    """Create `service`'s client at init, for the first `client(service)` (catalog.runtime)."""
    created = client(service)
    with _creating:
        _created_at_init[service] = created


def drop_connections(botocore_client: Any) -> None:
    """Close the pooled connections of a client; it opens new ones on its next request."""
    botocore_client.close()


@runtime.on_restore
def _drop_every_clients_connections() -> None:
    with _creating:
        clients = list(_clients)
    for created in clients:
        drop_connections(created)
