"""Webhooks API (admins): register receivers of change events, ping them, see deliveries."""

from __future__ import annotations

# ruff: noqa: E402 - the garbage collector pauses before the other imports (catalog.core.coldstart).
from catalog.core import coldstart

coldstart.begin()  # until api_handler() below

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from catalog.core.http import JSON, api_handler, location, make_resolver
from catalog.http.responses import problems
from catalog.http.routes import routes_of
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

app = make_resolver()
service = WebhookService(WebhookRepository())
TAGS = ["webhooks"]


@app.get("/v1/webhooks", tags=TAGS, responses=problems(401, 403))
def list_webhooks() -> WebhookList:
    """Every webhook (without secrets)."""
    return service.list()


@app.post("/v1/webhooks", tags=TAGS, responses=problems(400, 401, 403, 415, 422))
def create_webhook(body: Annotated[WebhookCreate, Body()]) -> Response[WebhookCreated]:
    """Register a receiver; the answer holds its signing secret, shown this once."""
    webhook = service.create(body)
    where = location(app, f"/v1/webhooks/{webhook.id}")
    return Response(
        status_code=201,
        content_type=JSON,
        body=webhook,
        headers={"Location": where, "Cache-Control": "no-store"},
    )


@app.get("/v1/webhooks/<id>", tags=TAGS, responses=problems(401, 403, 404))
def get_webhook(id: str) -> Webhook:
    """One webhook (without its secret)."""
    return service.get(id)


@app.patch("/v1/webhooks/<id>", tags=TAGS, responses=problems(400, 401, 403, 404, 415, 422))
def update_webhook(id: str, body: Annotated[WebhookPatch, Body()]) -> Webhook:
    """Change a webhook's URL, events, description, or pause it (`active: false`)."""
    return service.update(id, body)


@app.delete("/v1/webhooks/<id>", tags=TAGS, responses=problems(401, 403, 404))
def delete_webhook(id: str) -> Response[None]:
    """Remove a webhook; queued deliveries to it are dropped."""
    service.delete(id)
    return Response(status_code=204, body=None)


@app.post("/v1/webhooks/<id>/ping", tags=TAGS, responses=problems(401, 403, 404))
def ping_webhook(id: str) -> Response[PingQueued]:
    """Queue a signed `webhook.ping` event to this webhook; see its deliveries for the result."""
    return Response(status_code=202, content_type=JSON, body=service.ping(id))


@app.get("/v1/webhooks/<id>/deliveries", tags=TAGS, responses=problems(401, 403, 404))
def list_deliveries(id: str) -> DeliveryList:
    """The most recent delivery attempts (event, attempt, status, duration, error), newest first."""
    return service.deliveries(id)


lambda_handler = api_handler(app, routes_of("webhooks"))
