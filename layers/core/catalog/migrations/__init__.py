"""Data migrations: versioned, resumable changes to the stored items (see README, Migrations).

Shipped in the core layer for the deploy-time runner; `cli/` drives the same functions.
"""

from catalog.migrations.errors import LeaseHeld, LeaseLost, MigrationError, MigrationFailed
from catalog.migrations.results import MigrationStatus, ProgressEvent, RunResult
from catalog.migrations.runner import downgrade, status, upgrade

__all__ = [
    "LeaseHeld",
    "LeaseLost",
    "MigrationError",
    "MigrationFailed",
    "MigrationStatus",
    "ProgressEvent",
    "RunResult",
    "downgrade",
    "status",
    "upgrade",
]
