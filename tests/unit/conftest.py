"""Unit-test fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog.core import cursor, settings
from catalog.core.observability import metrics


@pytest.fixture(autouse=True)
def no_metrics_left_over() -> Iterator[None]:
    """Services record business metrics on the one shared `metrics`; a test that does not
    flush them must not hand them to the next test's EMF line."""
    yield
    metrics.clear_metrics()


@pytest.fixture
def signing_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Cursors signed with a fixed key from the environment (no Secrets Manager)."""
    monkeypatch.delenv("CURSOR_SECRET_ID", raising=False)
    monkeypatch.setenv("CURSOR_SIGNING_KEY", "unit-test-key")
    settings.settings.cache_clear()
    cursor._signing_key.cache_clear()
    yield
    settings.settings.cache_clear()
    cursor._signing_key.cache_clear()
