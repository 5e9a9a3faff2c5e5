"""Publisher: the products table's stream -> change events on the product-changes topic."""

from __future__ import annotations

# ruff: noqa: E402 - init work comes before the other imports (catalog.core.coldstart).
from catalog.core import coldstart

coldstart.begin()  # until coldstart.end() at the end of this module

from typing import Any

from catalog.core.observability import logger
from catalog.events.publisher import publish


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return publish(event["Records"])


coldstart.end()  # this module's last statement: the function's init is over
