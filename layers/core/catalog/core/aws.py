"""AWS clients (other than DynamoDB's, see catalog.core.dynamo): botocore's, from one session.

boto3's `client()` is botocore's behind a default session, and importing boto3 brings its
resource layer with it; a function needs neither (a smaller peak memory and a faster first
request). All clients come from one session, so botocore reads its endpoint and partition
data once per function. Region, credentials and endpoint come from the environment, as
with boto3 (AWS_ENDPOINT_URL locally).
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from botocore.config import Config
from botocore.session import Session, get_session

_creating = threading.Lock()  # a botocore session is not safe to use from several threads


@cache
def _session() -> Session:
    return get_session()


_created_at_init: dict[str, Any] = {}


def client(service: str, config: Config | None = None) -> Any:
    """A new client for `service` (or the one the function's init created); callers keep
    theirs (each caches it)."""
    with _creating:
        if config is None and service in _created_at_init:
            return _created_at_init.pop(service)
        return _session().create_client(service, config=config)


def create_now(service: str) -> None:
    """Create `service`'s client at init, for the first `client(service)` (catalog.runtime)."""
    created = client(service)
    with _creating:
        _created_at_init[service] = created
