"""Webhook rules: URLs that may be called, a secret shown once, pings, delivery history."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any

from ulid import ULID

from catalog.core import aws
from catalog.core.errors import ValidationFailed
from catalog.core.settings import resource
from catalog.core.types import iso_millis
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
from catalog.webhooks.urls import RefusedUrl, check

SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret
PING = "webhook.ping"


def refused_url(reason: str) -> ValidationFailed:
    return ValidationFailed(
        f"This URL cannot receive webhooks: {reason}.",
        errors=[{"in": "body", "pointer": "#/url", "detail": reason, "type": "refused_url"}],
    )


def _checked(url: str) -> str:
    try:
        check(url)
    except RefusedUrl as refused:
        raise refused_url(str(refused)) from None
    return url


@cache
def _sqs() -> Any:
    return aws.client("sqs")


def delivery_message(webhook_id: str, event: dict[str, Any]) -> str:
    """The body of a webhook-deliveries message: one event for one webhook."""
    return json.dumps({"webhook_id": webhook_id, "event": event}, separators=(",", ":"))


def enqueue_deliveries(pairs: list[tuple[str, dict[str, Any]]]) -> list[int]:
    """Queue (webhook id, event) deliveries; the indexes of those SQS refused."""
    url = resource("QUEUE_WEBHOOK_DELIVERIES")
    refused: list[int] = []
    for start in range(0, len(pairs), 10):
        chunk = pairs[start : start + 10]
        answer = _sqs().send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(n), "MessageBody": delivery_message(webhook_id, event)}
                for n, (webhook_id, event) in enumerate(chunk)
            ],
        )
        refused += [start + int(f["Id"]) for f in answer.get("Failed", [])]
    return refused


class WebhookService:
    def __init__(self, repository: WebhookRepository) -> None:
        self.repository = repository

    def create(self, body: WebhookCreate) -> WebhookCreated:
        now = datetime.now(UTC)
        webhook = Webhook(
            id=str(ULID.from_datetime(now)),
            url=_checked(body.url),
            events=list(body.events),
            description=body.description,
            active=True,
            created_at=now,
            updated_at=now,
        )
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        self.repository.create(webhook, secret)
        return WebhookCreated(**webhook.model_dump(), secret=secret)

    def list(self) -> WebhookList:
        return WebhookList(items=self.repository.list_all())

    def get(self, webhook_id: str) -> Webhook:
        return self.repository.get(webhook_id)

    def update(self, webhook_id: str, patch: WebhookPatch) -> Webhook:
        current = self.repository.get(webhook_id)
        changes = patch.changes()
        if "url" in changes:
            _checked(changes["url"])
        updated = current.model_copy(update={**changes, "updated_at": datetime.now(UTC)})
        self.repository.replace(updated)
        return updated

    def delete(self, webhook_id: str) -> None:
        self.repository.delete(webhook_id)

    def ping(self, webhook_id: str) -> PingQueued:
        """Queue a `webhook.ping` event for this webhook alone (same path as any event)."""
        webhook = self.repository.get(webhook_id)
        event_id = str(uuid.uuid4())
        event = {
            "id": event_id,
            "type": PING,
            "time": iso_millis(datetime.now(UTC)),
            "source": "catalog.webhooks",
            "subject": f"webhooks/{webhook.id}",
            "data": {"webhook_id": webhook.id},
            "previous": None,
        }
        if enqueue_deliveries([(webhook.id, event)]):
            raise RuntimeError("the delivery queue refused the ping")
        return PingQueued(event_id=event_id)

    def deliveries(self, webhook_id: str) -> DeliveryList:
        self.repository.get(webhook_id)  # 404 for an unknown webhook
        return DeliveryList(items=self.repository.deliveries(webhook_id))
