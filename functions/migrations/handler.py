"""Migrations: applies the pending data migrations, as far as one invocation has time for.

The deploy's state machine (infra/stack/migrations.py) invokes it until it answers
`done`; each call resumes from the checkpoint the previous one left (catalog.migrations).
A refusal or a failing item comes back as `failed` (the error's name and its one-line
message), which the state machine turns into its own failure, and so the deploy's.
"""

from __future__ import annotations

import catalog.runtime  # the function's init starts here (catalog/runtime.py)

import time
from typing import Any

import catalog.migrations as migrations
from catalog.core.observability import logger

# Kept back from the invocation's timeout: after the deadline the run stops at its next
# checkpoint, records it and releases the lease, all before Lambda stops the function.
MARGIN_S = 60
# CloudFormation shows the failure's reason in a few hundred characters at most.
MESSAGE_LIMIT = 500


def one_line(message: str) -> str:
    """`message` on one line (whitespace runs made one space), shortened to MESSAGE_LIMIT."""
    text = " ".join(message.split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def runner_of(event: dict[str, Any], context: Any) -> str:
    """Who runs: the state machine's execution (it passes `runner`), else this invocation."""
    runner = event.get("runner")
    if isinstance(runner, str) and runner:
        return runner
    return f"lambda:{context.function_name}:{context.aws_request_id}"


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deadline = time.time() + context.get_remaining_time_in_millis() / 1000 - MARGIN_S
    runner = runner_of(event, context)
    try:
        result = migrations.upgrade(runner=runner, deadline=deadline)
    except migrations.MigrationError as error:  # LeaseHeld and MigrationFailed included
        failed = {"error": type(error).__name__, "cause": one_line(str(error))}
        logger.error("migrations stopped", extra={"runner": runner, **failed})
        return {"done": False, "failed": failed}
    answer = {
        "done": bool(result.done),
        "applied": [str(i) for i in result.applied],
        "pending": [str(i) for i in result.pending],
        "scanned": int(result.scanned),
        "changed": int(result.changed),
    }
    logger.info("migrations ran", extra={"runner": runner, **answer})
    return answer


lambda_handler = catalog.runtime.ready(lambda_handler)
