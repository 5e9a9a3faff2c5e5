"""Data migrations: the function a deploy runs to apply the pending ones (catalog.migrations).

It has no route and no event source: in the cloud the deploy's state machine invokes it
until nothing is pending (infra/stack/migrations.py); locally `make migrate` and `make run`
apply the same migrations with the CLI, so the local runner only provisions it.
"""

from __future__ import annotations

from infra.topology.model import Capability, Function

# The function a deploy invokes (its one caller: no route, no event source).
DEPLOY_RUNNER = "migrations"

MIGRATIONS = Capability(
    "migrations",
    functions=(
        Function(
            DEPLOY_RUNNER,
            code="functions/migrations",
            # Rewriting items is CPU-bound work in Python, and Lambda's CPU share grows with
            # memory; it runs only on deploys, so its cost is that of a few minutes at most.
            memory_mb=1024,
            # Lambda's longest: each invocation does as much as it can before a deadline
            # kept short of this (functions/migrations/handler.py), then the state machine
            # invokes it again and the run resumes from its checkpoint.
            timeout_s=900,
            # Migration state and the lease are items of the products table too.
            tables={"products": "migrate"},
            init_clients=("dynamodb",),
        ),
    ),
)
