"""Pydantic models of a user's email subscriptions."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from catalog.core.types import Timestamp
from catalog.products.schemas import Slug

MAX_CATEGORIES = 40  # one transaction writes the user's item plus added and removed ones


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class SubscriptionsPut(BaseModel):
    """Body of `PUT /v1/users/me/subscriptions`: the full list (empty: no emails)."""

    model_config = ConfigDict(extra="forbid")

    categories: Annotated[list[Slug], Field(max_length=MAX_CATEGORIES), AfterValidator(_unique)]


class Subscriptions(BaseModel):
    categories: list[str] = Field(
        description="Emails go out when a product of one of these is published or gets cheaper."
    )
    updated_at: Timestamp | None
