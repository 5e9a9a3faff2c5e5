"""Email subscriptions API: the categories the signed-in user hears about."""

from __future__ import annotations

# ruff: noqa: E402 - the garbage collector pauses before the other imports (catalog.core.coldstart).
from catalog.core import coldstart

coldstart.begin()  # until api_handler() below

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from catalog.categories.repository import CategoryRepository
from catalog.core.http import api_handler, make_resolver, signed_in
from catalog.http.responses import problems
from catalog.http.routes import routes_of
from catalog.subscriptions.repository import SubscriptionRepository
from catalog.subscriptions.schemas import Subscriptions, SubscriptionsPut
from catalog.subscriptions.service import SubscriptionService

app = make_resolver()
service = SubscriptionService(SubscriptionRepository(), CategoryRepository())
TAGS = ["users"]


@app.get("/v1/users/me/subscriptions", tags=TAGS, responses=problems(401))
def get_subscriptions() -> Subscriptions:
    """The categories the caller is subscribed to."""
    return service.get(signed_in(app))


@app.put("/v1/users/me/subscriptions", tags=TAGS, responses=problems(400, 401, 415, 422))
def put_subscriptions(body: Annotated[SubscriptionsPut, Body()]) -> Subscriptions:
    """Replace the caller's subscriptions: an email when a product of one of these categories
    is published or its price drops."""
    return service.replace(signed_in(app), body)


lambda_handler = api_handler(app, routes_of("subscriptions"))
