"""Secrets never reach the logs: tokens, passwords and Authorization values are masked."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from catalog.core.observability import logger

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the catalog logger writes, through its own JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_tokens_passwords_and_authorization_are_masked(log_output: io.StringIO) -> None:
    logger.warning(
        f"calling with {JWT} and Bearer opaque-token-123",
        extra={"password": "hunter2-Secret!", "authorization": f"Bearer {JWT}", "sku": "MUG-1"},
    )
    written = log_output.getvalue()
    assert '"level":"WARNING"' in written
    for secret in (JWT, "opaque-token-123", "hunter2-Secret!"):
        assert secret not in written
    assert "[REDACTED]" in written
    assert "MUG-1" in written  # ordinary fields are kept


def test_presigned_signatures_and_session_tokens_are_masked(log_output: io.StringIO) -> None:
    url = (
        "http://127.0.0.1:4566/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Signature=0badc0ffee1234&X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE"
    )
    logger.warning(
        f"fetching {url}",
        extra={"upload": {"fields": {"key": "uploads/p/i", "x-amz-signature": "deadbeef99"}}},
    )
    written = log_output.getvalue()
    for secret in ("0badc0ffee1234", "FwoGZXIvYXdzEXAMPLE", "deadbeef99"):
        assert secret not in written
    assert "uploads/p/i" in written and "X-Amz-Algorithm=AWS4-HMAC-SHA256" in written
