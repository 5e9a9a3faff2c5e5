"""Every AWS client of a function talks to AWS as catalog.core.aws says: timeouts that fit a
10 s function, standard retries, kept-alive connections."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog.core import aws, dynamo
from catalog.images import storage


@pytest.fixture(autouse=True)
def cloud_stage(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The cloud's settings, whatever a local system started earlier on this worker left in
    the environment; clients made afresh, and none of them (nor the session's credentials
    they resolved) left cached for the tests that follow on this worker."""
    monkeypatch.setenv("CATALOG_AWS_READ_TIMEOUT_S", "0")  # as the cloud stages set it
    storage._client.cache_clear()
    yield
    storage._client.cache_clear()
    aws._session.cache_clear()


def settings_of(client: object) -> dict[str, object]:
    config = client.meta.config  # type: ignore[attr-defined]
    return {
        "connect": config.connect_timeout,
        "read": config.read_timeout,
        "retries": config.retries,
        "pool": config.max_pool_connections,
        "keepalive": config.tcp_keepalive,
    }


def test_a_client_gets_the_functions_settings() -> None:
    assert settings_of(aws.client("sqs")) == {
        "connect": 1.0,
        "read": 5.0,
        "retries": {"mode": "standard", "total_max_attempts": 3},
        "pool": 10,
        "keepalive": True,
    }


def test_a_service_s_own_settings_keep_the_rest() -> None:
    # The presigning S3 client signs with SigV4 and still has the timeouts and retries
    config = storage._client().meta.config
    assert config.signature_version == "s3v4"
    assert (config.connect_timeout, config.read_timeout) == (1.0, 5.0)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}


def test_dynamodb_s_client_waits_2_s_and_retries_in_standard_mode() -> None:
    dynamo.connection.cache_clear()
    try:
        client = dynamo.connection().client
        config = client.meta.config
        assert (config.connect_timeout, config.read_timeout) == (1.0, 2.0)
        assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    finally:
        dynamo.connection.cache_clear()


def test_a_stage_may_wait_longer_between_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    # The local stage's moto can take seconds for a transaction under load
    monkeypatch.setenv("CATALOG_AWS_READ_TIMEOUT_S", "30")
    assert settings_of(aws.client("sqs"))["read"] == 30.0
    dynamo.connection.cache_clear()
    try:
        assert dynamo.connection().client.meta.config.read_timeout == 30.0
    finally:
        dynamo.connection.cache_clear()
