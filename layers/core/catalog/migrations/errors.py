"""What a migration run can fail with: each a one-line message that says what to do."""

from __future__ import annotations

from typing import Any


class MigrationError(Exception):
    """Bad input or a state that forbids running (nothing was written)."""


class LeaseHeld(MigrationError):
    """Another runner holds the lease: only one runner works at a time."""

    def __init__(self, holder: str, expires_at: str) -> None:
        super().__init__(
            f"another migration runner ({holder}) holds the lease until {expires_at}: "
            "wait for it to finish (or for the lease to expire, if it died) and run again"
        )
        self.holder = holder
        self.expires_at = expires_at


class LeaseLost(MigrationError):
    """The lease expired while this runner worked and another runner took it."""


class MigrationFailed(MigrationError):
    """An item's step failed: the run stopped there (its checkpoint lets a rerun resume)."""

    def __init__(self, migration_id: str, key: dict[str, Any], error: str) -> None:
        super().__init__(
            f"migration {migration_id} failed on item {key}: {error} "
            "(fix the step or the item, then run again: it resumes from its checkpoint)"
        )
        self.migration_id = migration_id
        self.key = key
        self.error = error
