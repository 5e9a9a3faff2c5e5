"""Unit-test fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog.core import cursor, settings


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
