"""Webhooks API (admins): register receivers of change events, ping them, see deliveries."""

from __future__ import annotations

import catalog.runtime  # the function's init starts here (catalog/runtime.py)

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from catalog.http.api import JSON, Api
from catalog.http.responses import empty, problems, returns
from catalog.webhooks.repository import WebhookRepository
from catalog.webhooks.schemas import (
    DeliveryList,
    PingQueued,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookPatch,
)
from catalog.webhooks.service import WebhookService

app = Api.of("webhooks", tags=["webhooks"])
service = WebhookService(WebhookRepository())


@app.operation(responses={**returns(200, WebhookList, "Every webhook"), **problems(401, 403)})
def list_webhooks() -> WebhookList:
    """Every webhook (without secrets)."""
    return service.list()


@app.operation(
    responses={
        **returns(201, WebhookCreated, "The webhook, with its signing secret"),
        **problems(400, 401, 403, 415, 422),
    }
)
def create_webhook(body: Annotated[WebhookCreate, Body()]) -> Response[WebhookCreated]:
    """Register a receiver; the answer holds its signing secret, shown this once."""
    webhook = service.create(body)
    where = app.location(f"/v1/webhooks/{webhook.id}")
    return Response(
        status_code=201,
        content_type=JSON,
        body=webhook,
        headers={"Location": where, "Cache-Control": "no-store"},
    )


@app.operation(responses={**returns(200, Webhook, "The webhook"), **problems(401, 403, 404)})
def get_webhook(id: str) -> Webhook:
    """One webhook (without its secret)."""
    return service.get(id)


@app.operation(
    responses={
        **returns(200, Webhook, "The webhook as changed"),
        **problems(400, 401, 403, 404, 415, 422),
    }
)
def update_webhook(id: str, body: Annotated[WebhookPatch, Body()]) -> Webhook:
    """Change a webhook's URL, events, description, or pause it (`active: false`)."""
    return service.update(id, body)


@app.operation(responses={**empty(204, "The webhook is removed"), **problems(401, 403, 404)})
def delete_webhook(id: str) -> Response[None]:
    """Remove a webhook; queued deliveries to it are dropped."""
    service.delete(id)
    return Response(status_code=204, body=None)


@app.operation(
    responses={**returns(202, PingQueued, "The ping is queued"), **problems(401, 403, 404)}
)
def ping_webhook(id: str) -> Response[PingQueued]:
    """Queue a signed `webhook.ping` event to this webhook; see its deliveries for the result."""
    return Response(status_code=202, content_type=JSON, body=service.ping(id))


@app.operation(
    responses={**returns(200, DeliveryList, "Recent deliveries"), **problems(401, 403, 404)}
)
def list_deliveries(id: str) -> DeliveryList:
    """The most recent delivery attempts (event, attempt, status, duration, error), newest first."""
    return service.deliveries(id)


lambda_handler = catalog.runtime.ready(app.handler())
