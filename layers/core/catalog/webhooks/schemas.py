"""Pydantic models of webhooks and their deliveries."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from catalog.core.patch import Patch
from catalog.core.text import TextRule, clean_line
from catalog.core.types import Timestamp
from catalog.events.envelope import EventType
from catalog.webhooks.urls import MAX_URL_LENGTH, RefusedUrl, parse


def _unique(values: list[EventType]) -> list[EventType]:
    return list(dict.fromkeys(values))


def _callable_url(url: str) -> str:
    # The URL's form and scheme, refused here with the reason before anything is looked
    # up; the service then checks the addresses its host resolves to.
    try:
        parse(url)
    except RefusedUrl as refused:
        raise PydanticCustomError("refused_url", "{reason}", {"reason": str(refused)}) from None
    return url


_LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_URL_CHARACTERS = "A-Za-z0-9._~!$&'()*+,;=:@/%-"
# The canonical form catalog.webhooks.urls takes, as far as a pattern says it (a DNS name;
# the service then resolves it, and every address must be public).
WEBHOOK_URL_PATTERN = (
    f"^https://(?:{_LABEL}\\.)*{_LABEL}(?::[1-9][0-9]{{0,4}})?"
    f"/[{_URL_CHARACTERS}]*(?:\\?[?{_URL_CHARACTERS}]+)?$"
)
WebhookUrl = Annotated[
    str,
    StringConstraints(min_length=8, max_length=MAX_URL_LENGTH),
    AfterValidator(_callable_url),
    WithJsonSchema(
        {
            "type": "string",
            "format": "uri",
            "minLength": 8,
            "maxLength": MAX_URL_LENGTH,
            "pattern": WEBHOOK_URL_PATTERN,
        }
    ),
]
Events = Annotated[list[EventType], Field(min_length=1, max_length=5), AfterValidator(_unique)]
Description = Annotated[
    str, AfterValidator(clean_line), StringConstraints(max_length=500), TextRule()
]


class WebhookCreate(BaseModel):
    """Body of `POST /v1/webhooks`."""

    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl = Field(
        description="The https URL that receives the events (POST, JSON), in canonical form "
        "(lower-case host, no default port, a path); its host must resolve to public addresses."
    )
    events: Events = Field(description="The event types to send.")
    description: Description = ""


class WebhookPatch(Patch):
    """Body of `PATCH /v1/webhooks/{id}`."""

    url: WebhookUrl | None = None
    events: Events | None = None
    description: Description | None = None
    active: StrictBool | None = None


class Webhook(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: Timestamp
    updated_at: Timestamp


class WebhookCreated(Webhook):
    secret: str = Field(
        description="Signing secret for Catalog-Signature. Shown only in this answer."
    )


class WebhookList(BaseModel):
    items: list[Webhook]


class Delivery(BaseModel):
    event_id: str
    event_type: str
    attempt: int
    ok: bool
    status_code: int | None
    duration_ms: int
    error: str | None
    at: Timestamp


class DeliveryList(BaseModel):
    items: list[Delivery]


class PingQueued(BaseModel):
    event_id: str = Field(description="Id of the ping event; see /deliveries for the outcome.")
