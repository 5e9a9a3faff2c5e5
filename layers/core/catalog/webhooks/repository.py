"""Webhooks and their deliveries in the notifications table.

A webhook is `pk=WEBHOOK#<id>, sk=WEBHOOK` (also in gsi1 under `WEBHOOKS`, for listing and
dispatching); each delivery attempt is `pk=WEBHOOK#<id>, sk=DELIVERY#<time>#<event>#<n>`,
expired by TTL after DELIVERY_RETENTION_DAYS.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import DoesNotExist, PutError

from catalog.core.dynamo import TableModel, TableName, string_index
from catalog.core.errors import NotFound
from catalog.core.types import iso_millis
from catalog.webhooks.schemas import Delivery, Webhook

WEBHOOK_SK = "WEBHOOK"
ALL_WEBHOOKS = "WEBHOOKS"
DELIVERY_PREFIX = "DELIVERY#"
DELIVERY_RETENTION_DAYS = 30
RECENT_DELIVERIES = 50


class WebhookItem(TableModel):
    """A webhook; every webhook is in one gsi1 partition (listing and dispatch)."""

    KEYS: ClassVar[dict[str, dict[str, str]]] = {
        "webhook": {"pk": "WEBHOOK#<id>", "sk": "WEBHOOK", "gsi1pk": "WEBHOOKS", "gsi1sk": "<id>"}
    }

    class Meta:
        table_name = TableName("notifications")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    gsi1pk = UnicodeAttribute(default=ALL_WEBHOOKS)
    gsi1sk = UnicodeAttribute()
    id = UnicodeAttribute()
    url = UnicodeAttribute()
    events = ListAttribute(of=UnicodeAttribute)
    description = UnicodeAttribute(default="")
    secret = UnicodeAttribute()
    active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    all_webhooks = string_index("gsi1", "gsi1pk", "gsi1sk")


class DeliveryItem(TableModel):
    """One delivery attempt of an event to a webhook, expired by TTL."""

    KEYS: ClassVar[dict[str, dict[str, str]]] = {
        "delivery": {"pk": "WEBHOOK#<id>", "sk": "DELIVERY#<time>#<event id>#<attempt>"}
    }

    class Meta:
        table_name = TableName("notifications")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    attempt = NumberAttribute()
    ok = BooleanAttribute()
    status_code = NumberAttribute(null=True)
    duration_ms = NumberAttribute()
    error = UnicodeAttribute(null=True)
    at = UnicodeAttribute()
    expires_at = NumberAttribute()


def webhook_key(webhook_id: str) -> str:
    return f"WEBHOOK#{webhook_id}"


def _to_webhook(item: WebhookItem) -> Webhook:
    return Webhook(
        id=item.id,
        url=item.url,
        events=[str(e) for e in item.events or []],
        description=item.description,
        active=bool(item.active),
        created_at=datetime.fromisoformat(item.created_at),
        updated_at=datetime.fromisoformat(item.updated_at),
    )


def _to_item(webhook: Webhook, secret: str) -> WebhookItem:
    return WebhookItem(
        webhook_key(webhook.id),
        WEBHOOK_SK,
        gsi1sk=webhook.id,
        id=webhook.id,
        url=webhook.url,
        events=list(webhook.events),
        description=webhook.description,
        secret=secret,
        active=webhook.active,
        created_at=iso_millis(webhook.created_at),
        updated_at=iso_millis(webhook.updated_at),
    )


class WebhookRepository:
    def create(self, webhook: Webhook, secret: str) -> None:
        _to_item(webhook, secret).save(condition=WebhookItem.pk.does_not_exist())

    def _item(self, webhook_id: str) -> WebhookItem:
        try:
            return WebhookItem.get(webhook_key(webhook_id), WEBHOOK_SK, consistent_read=True)
        except DoesNotExist:
            raise NotFound(f"There is no webhook {webhook_id!r}.") from None

    def get(self, webhook_id: str) -> Webhook:
        return _to_webhook(self._item(webhook_id))

    def get_with_secret(self, webhook_id: str) -> tuple[Webhook, str]:
        item = self._item(webhook_id)
        return _to_webhook(item), item.secret

    def list_all(self) -> list[Webhook]:
        return [_to_webhook(item) for item in WebhookItem.all_webhooks.query(ALL_WEBHOOKS)]

    def replace(self, webhook: Webhook) -> None:
        """Write the changed fields; the webhook must still exist (not deleted meanwhile)."""
        item = self._item(webhook.id)
        secret = item.secret
        try:
            _to_item(webhook, secret).save(condition=WebhookItem.pk.exists())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise NotFound(f"There is no webhook {webhook.id!r}.") from None
            raise

    def delete(self, webhook_id: str) -> None:
        """Remove the webhook, then its delivery history (TTL would, later)."""
        self._item(webhook_id).delete()
        history = DeliveryItem.query(
            webhook_key(webhook_id), DeliveryItem.sk.startswith(DELIVERY_PREFIX)
        )
        with DeliveryItem.batch_write() as batch:
            for delivery in history:
                batch.delete(delivery)

    def record_delivery(
        self, webhook_id: str, event_id: str, event_type: str, attempt: int, outcome: Any
    ) -> None:
        now = datetime.now(UTC)
        DeliveryItem(
            webhook_key(webhook_id),
            f"{DELIVERY_PREFIX}{iso_millis(now)}#{event_id}#{attempt}",
            event_id=event_id,
            event_type=event_type,
            attempt=attempt,
            ok=outcome.ok,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
            at=iso_millis(now),
            expires_at=int((now + timedelta(days=DELIVERY_RETENTION_DAYS)).timestamp()),
        ).save()

    def deliveries(self, webhook_id: str, limit: int = RECENT_DELIVERIES) -> list[Delivery]:
        items = DeliveryItem.query(
            webhook_key(webhook_id),
            DeliveryItem.sk.startswith(DELIVERY_PREFIX),
            scan_index_forward=False,
            limit=limit,
        )
        return [
            Delivery(
                event_id=item.event_id,
                event_type=item.event_type,
                attempt=int(item.attempt),
                ok=bool(item.ok),
                status_code=int(item.status_code) if item.status_code is not None else None,
                duration_ms=int(item.duration_ms),
                error=item.error,
                at=datetime.fromisoformat(item.at),
            )
            for item in items
        ]
