"""Email subscriptions API: the categories the signed-in user hears about."""

from __future__ import annotations

import catalog.runtime  # the function's init starts here (catalog/runtime.py)

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from catalog.categories.repository import CategoryRepository
from catalog.http.api import Api
from catalog.http.responses import problems, returns
from catalog.subscriptions.repository import SubscriptionRepository
from catalog.subscriptions.schemas import Subscriptions, SubscriptionsPut
from catalog.subscriptions.service import SubscriptionService

app = Api.of("subscriptions", tags=["users"])
service = SubscriptionService(SubscriptionRepository(), CategoryRepository())


@app.operation(
    responses={**returns(200, Subscriptions, "The caller's subscriptions"), **problems(401)}
)
def get_subscriptions() -> Subscriptions:
    """The categories the caller is subscribed to."""
    return service.get(app.signed_in())


@app.operation(
    responses={
        **returns(200, Subscriptions, "The subscriptions as replaced"),
        **problems(400, 401, 415, 422),
    }
)
def put_subscriptions(body: Annotated[SubscriptionsPut, Body()]) -> Subscriptions:
    """Replace the caller's subscriptions: an email when a product of one of these categories
    is published or its price drops."""
    return service.replace(app.signed_in(), body)


lambda_handler = catalog.runtime.ready(app.handler())
