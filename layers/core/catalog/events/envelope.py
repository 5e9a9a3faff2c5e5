"""The change-event envelope built from a products-table stream record.

`{id, type, time, source, subject, data, previous}`: `data` is the product after the
change (None when deleted), `previous` before it (None when created). One stream record
gives one or more events (an update that publishes a product and changes its price gives
three). Each event's id is derived from the stream record and the type, so a record
published twice (a retried batch) gives the same ids: receivers drop duplicates by id.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, TypedDict

from catalog.products.items import product_from_stream_image
from catalog.products.schemas import Product

EventType = Literal[
    "product.created",
    "product.updated",
    "product.deleted",
    "product.published",
    "product.price_changed",
]
EVENT_TYPES: tuple[EventType, ...] = (
    "product.created",
    "product.updated",
    "product.deleted",
    "product.published",
    "product.price_changed",
)
SOURCE = "catalog.products"
_ID_NAMESPACE = uuid.UUID("6f1c1d0e-8a57-4c55-9a6f-0c7d1f3b2a10")


class ChangeEvent(TypedDict):
    id: str
    type: str
    time: str
    source: str
    subject: str
    data: dict[str, Any] | None
    previous: dict[str, Any] | None


def event_id(stream_arn: str, sequence_number: str, event_type: str) -> str:
    """A stable id: the same stream record and type always give the same id."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{stream_arn}|{sequence_number}|{event_type}"))


def change_types(before: Product | None, after: Product | None) -> list[EventType]:
    """The event types of one change, most general first."""
    if after is None:
        return ["product.deleted"] if before is not None else []
    types: list[EventType] = ["product.created" if before is None else "product.updated"]
    if after.status == "active" and (before is None or before.status != "active"):
        types.append("product.published")
    if before is not None and (before.price, before.currency) != (after.price, after.currency):
        types.append("product.price_changed")
    return types


def _time(record: dict[str, Any]) -> str:
    created = record["dynamodb"].get("ApproximateCreationDateTime")
    moment = datetime.fromtimestamp(float(created), UTC) if created else datetime.now(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def change_events(record: dict[str, Any]) -> list[ChangeEvent]:
    """The events of one stream record; none for items that are not products."""
    images = record["dynamodb"]
    before = product_from_stream_image(images["OldImage"]) if "OldImage" in images else None
    after = product_from_stream_image(images["NewImage"]) if "NewImage" in images else None
    if after is not None and before is not None and after == before:
        return []  # rewritten unchanged: nothing happened a receiver could see
    product = after or before
    if product is None:
        return []
    data = after.model_dump(mode="json") if after else None
    previous = before.model_dump(mode="json") if before else None
    return [
        ChangeEvent(
            id=event_id(record["eventSourceARN"], images["SequenceNumber"], event_type),
            type=event_type,
            time=_time(record),
            source=SOURCE,
            subject=f"products/{product.id}",
            data=data,
            previous=previous,
        )
        for event_type in change_types(before, after)
    ]


def category_of(event: ChangeEvent) -> str:
    product = event["data"] or event["previous"] or {}
    return str(product.get("category") or "-")


def price_dropped(event: ChangeEvent) -> bool:
    """Whether a price change lowered the price (same currency)."""
    data, previous = event["data"], event["previous"]
    if event["type"] != "product.price_changed" or not data or not previous:
        return False
    if data["currency"] != previous["currency"]:
        return False
    return Decimal(str(data["price"])) < Decimal(str(previous["price"]))
