"""Idempotent POSTs: with an `Idempotency-Key` header, a retried request gets the first answer.

Built on Powertools idempotency with DynamoDB persistence (records expire after 24 h by
TTL). Keys are scoped to the caller, so two users cannot collide; the same key with another
body answers 422, and a retry while the first request still runs answers 409. Only
successful answers are stored: a request that failed may be retried and run again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from pydantic import BaseModel

from catalog.core.errors import BadRequest, Conflict, ValidationFailed
from catalog.core.settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TTL_SECONDS = 24 * 3600
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as the IETF draft suggests


def idempotency_key(app: APIGatewayRestResolver) -> str | None:
    key = app.current_event.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.match(key):
        raise BadRequest(f"{HEADER} must be 1 to 255 visible ASCII characters.")
    return key


@cache
def _store() -> DynamoDBPersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=settings().table_name("idempotency"))


def run_once(
    app: APIGatewayRestResolver,
    *,
    operation: str,
    key: str,
    user: str,
    payload: dict[str, Any],
    run: Callable[[], Response[str]],
) -> Response[str]:
    """`run()` once per (operation, user, key); later calls replay its stored response."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    replayed: list[bool] = []

    def mark_replay(response: Any, idempotent_data: DataRecord) -> Any:
        replayed.append(True)
        return response

    config = IdempotencyConfig(
        event_key_jmespath="[user, key]",
        payload_validation_jmespath="payload",
        expires_after_seconds=TTL_SECONDS,
        response_hook=mark_replay,
    )
    config.register_lambda_context(app.lambda_context)

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="request",
        persistence_store=_store(),
        config=config,
        key_prefix=operation,
    )
    def once(request: dict[str, Any]) -> dict[str, Any]:
        response = run()
        return {
            "status": response.status_code,
            "headers": {k: v for k, v in response.headers.items() if isinstance(v, str)},
            "body": response.body,
        }

    try:
        stored = once(request={"user": user, "key": key, "payload": payload})
    except IdempotencyAlreadyInProgressError:
        raise Conflict("A request with this Idempotency-Key is still being processed.") from None
    except IdempotencyValidationError:
        raise ValidationFailed(
            "This Idempotency-Key was used with another request body.",
            errors=[
                {
                    "in": "header",
                    "parameter": HEADER,
                    "detail": "reuse a key only to retry the very same request",
                    "type": "idempotency_key_reused",
                }
            ],
        ) from None
    headers = dict(stored["headers"])
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    return Response(status_code=stored["status"], body=stored["body"], headers=headers)


def once_per_key(
    app: APIGatewayRestResolver,
    *,
    operation: str,
    user: str,
    body: BaseModel,
    run: Callable[[], Response[str]],
) -> Response[str]:
    """`run()`, made idempotent by the request's `Idempotency-Key` when it has one."""
    key = idempotency_key(app)
    if key is None:
        return run()
    payload = body.model_dump(mode="json")
    return run_once(app, operation=operation, key=key, user=user, payload=payload, run=run)
