"""Publisher: the products table's stream -> change events on the product-changes topic."""

from __future__ import annotations

import catalog.runtime  # the function's init starts here (catalog/runtime.py)

from typing import Any

from catalog.core.observability import logger
from catalog.events.publisher import publish


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return publish(event["Records"])


lambda_handler = catalog.runtime.ready(lambda_handler)
