"""AWS clients (other than DynamoDB's, see catalog.core.dynamo): botocore's, from one session.

boto3's `client()` is botocore's behind a default session, and importing boto3 brings its
resource layer with it; a function needs neither. Creating the Cognito client with botocore
directly took the auth function's peak memory from 61.5 to 59.1 MiB and its first request
from 120 to 105 ms (make bench's harness). All clients come from one session, so botocore
reads its endpoint and partition data once per function. Region, credentials and endpoint
come from the environment, as with boto3 (AWS_ENDPOINT_URL locally).
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


def client(service: str, config: Config | None = None) -> Any:
    """A new client for `service`; callers keep theirs (each caches it)."""
    with _creating:
        return _session().create_client(service, config=config)
