"""Which change events become emails, to whom, rendered from the repository's templates.

An email goes out when a product of a subscribed category is published (becomes active)
or its price drops. Each (event, user) is marked as sent after SES accepts it, so a
redelivered event does not email twice (unless the mark itself fails: at least once).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from string import Template
from typing import Any, ClassVar

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from catalog.core import aws
from catalog.core.dynamo import TableModel, TableName
from catalog.core.errors import NotFound
from catalog.core.observability import logger
from catalog.events.envelope import ChangeEvent, price_dropped
from catalog.subscriptions.repository import SubscriptionRepository
from catalog.users.repository import ProfileRepository

TEMPLATES = Path(__file__).with_name("templates")
SENT_MARK_DAYS = 7


class SentItem(TableModel):
    """The mark that one change event was emailed to one user, expired by TTL."""

    KEYS: ClassVar[dict[str, dict[str, str]]] = {
        "email-sent": {"pk": "EMAIL#<event id>", "sk": "USER#<sub>"}
    }

    class Meta:
        table_name = TableName("notifications")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    expires_at = NumberAttribute()


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


def template_for(event: ChangeEvent) -> str | None:
    data = event["data"]
    if event["type"] == "product.published" and data and data.get("status") == "active":
        return "product_published"
    if price_dropped(event) and data and data.get("status") == "active":
        return "price_drop"
    return None


@cache
def _template(name: str) -> tuple[Template, Template]:
    subject, _, body = (TEMPLATES / f"{name}.txt").read_text().partition("\n")
    return Template(subject), Template(body)


def render(name: str, event: ChangeEvent, recipient: str) -> tuple[str, str]:
    data: dict[str, Any] = event["data"] or {}
    previous: dict[str, Any] = event["previous"] or {}
    values = {
        **{k: str(v) for k, v in data.items()},
        "previous_price": str(previous.get("price", "")),
        "recipient": recipient,
    }
    subject, body = _template(name)
    return subject.safe_substitute(values), body.safe_substitute(values)


@cache
def _ses() -> Any:
    return aws.client("ses")


class Notifier:
    def __init__(self, subscriptions: SubscriptionRepository, profiles: ProfileRepository) -> None:
        self.subscriptions = subscriptions
        self.profiles = profiles

    def handle(self, event: ChangeEvent) -> int:
        """Email every subscriber of the product's category not emailed yet; how many sent."""
        name = template_for(event)
        if name is None:
            return 0
        category = str((event["data"] or {}).get("category", ""))
        sent = 0
        for sub in self.subscriptions.subscribers(category):
            mark = (f"EMAIL#{event['id']}", f"USER#{sub}")
            try:
                SentItem.get(*mark, consistent_read=True)
                continue  # emailed on an earlier delivery of this event
            except DoesNotExist:
                pass
            try:
                profile = self.profiles.get(sub)
            except NotFound:
                continue  # the account is gone
            if not profile.enabled:
                continue
            subject, body = render(name, event, profile.name or profile.email)
            send(Email(profile.email, subject, body))
            expires = datetime.now(UTC) + timedelta(days=SENT_MARK_DAYS)
            SentItem(*mark, expires_at=int(expires.timestamp())).save()
            sent += 1
        logger.info("notification emails", extra={"event_id": event["id"], "sent": sent})
        return sent


def send(email: Email) -> None:
    _ses().send_email(
        Source=os.environ.get("EMAIL_SENDER", "catalog@example.com"),
        Destination={"ToAddresses": [email.to]},
        Message={
            "Subject": {"Data": email.subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": email.body, "Charset": "UTF-8"}},
        },
    )
