"""One Logger, one Metrics and a lazily built Tracer for every function.

The X-Ray SDK costs 100-250 ms to import, so the Tracer is only created when tracing is
on (in Lambda with X-Ray active); otherwise handlers run undecorated.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

# Routes that record no metric are normal (reads); Powertools would warn on each of them.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(use_rfc3339=True)
metrics = Metrics()

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def tracing_enabled() -> bool:
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true")
    return not disabled and "AWS_LAMBDA_FUNCTION_NAME" in os.environ


@cache
def tracer() -> Tracer | None:
    if not tracing_enabled():
        return None
    from aws_lambda_powertools import Tracer

    return Tracer()


def instrument_api(handler: Handler) -> Handler:
    """Wrap an API Gateway proxy handler with logging context, metrics and tracing."""
    wrapped = logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
    )(handler)
    wrapped = metrics.log_metrics(wrapped)
    active = tracer()
    if active is not None:
        wrapped = active.capture_lambda_handler(wrapped, capture_response=False)
    return wrapped
