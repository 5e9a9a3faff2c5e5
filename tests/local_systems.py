"""The local systems this test process started (tests/conftest.py's `local_system`).

Its pump invokes the system's functions in this process, and they read resource names and
the AWS endpoint from the process's environment. A fixture that points that environment
elsewhere for a while (tests/migration_tables.py's `moto_endpoint`) first waits for the
systems to go quiet, so that no earlier test's leftover work (an export never awaited, a
webhook retry) runs against the other endpoint, or leaves a client cached for it.
"""

from __future__ import annotations

from typing import Any

RUNNING: list[Any] = []


def quiet(timeout: float = 300.0) -> None:
    """Return once every running local system's pump is idle (TimeoutError otherwise)."""
    for system in RUNNING:
        system.drain_events(timeout)
