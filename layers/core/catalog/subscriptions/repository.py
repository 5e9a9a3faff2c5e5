"""Subscriptions in the notifications table.

The user's list is `pk=USER#<sub>, sk=SUBSCRIPTIONS`; each subscribed category also holds
`pk=SUBSCRIBERS#<category>, sk=USER#<sub>`, so the email consumer finds a category's
subscribers with one query. Both are written in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pynamodb.attributes import ListAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from catalog.core.dynamo import TableModel, TableName, Transaction
from catalog.core.types import iso_millis
from catalog.subscriptions.schemas import Subscriptions

SUBSCRIPTIONS_SK = "SUBSCRIPTIONS"


class SubscriptionsItem(TableModel):
    """The categories one user is subscribed to."""

    KEYS: ClassVar[dict[str, dict[str, str]]] = {
        "subscriptions": {"pk": "USER#<sub>", "sk": "SUBSCRIPTIONS"}
    }

    class Meta:
        table_name = TableName("notifications")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    categories = ListAttribute(of=UnicodeAttribute, default=list)
    updated_at = UnicodeAttribute()


class SubscriberItem(TableModel):
    """One subscriber of a category (a copy of the user's list, written with it)."""

    KEYS: ClassVar[dict[str, dict[str, str]]] = {
        "subscriber": {"pk": "SUBSCRIBERS#<category>", "sk": "USER#<sub>"}
    }

    class Meta:
        table_name = TableName("notifications")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    user = UnicodeAttribute()


def _user_key(sub: str) -> str:
    return f"USER#{sub}"


def _subscribers_key(category: str) -> str:
    return f"SUBSCRIBERS#{category}"


class SubscriptionRepository:
    def get(self, sub: str) -> Subscriptions:
        try:
            item = SubscriptionsItem.get(_user_key(sub), SUBSCRIPTIONS_SK, consistent_read=True)
        except DoesNotExist:
            return Subscriptions(categories=[], updated_at=None)
        return Subscriptions(
            categories=[str(c) for c in item.categories or []],
            updated_at=datetime.fromisoformat(item.updated_at),
        )

    def replace(self, sub: str, categories: list[str], now: datetime) -> Subscriptions:
        current = set(self.get(sub).categories)
        wanted = set(categories)
        tx = Transaction()
        tx.save(
            "user",
            SubscriptionsItem(
                _user_key(sub),
                SUBSCRIPTIONS_SK,
                categories=list(categories),
                updated_at=iso_millis(now),
            ),
        )
        for category in sorted(wanted - current):
            tx.save(
                f"add {category}",
                SubscriberItem(_subscribers_key(category), _user_key(sub), user=sub),
            )
        for category in sorted(current - wanted):
            tx.delete(
                f"remove {category}", SubscriberItem(_subscribers_key(category), _user_key(sub))
            )
        tx.commit()
        return Subscriptions(categories=list(categories), updated_at=now)

    def subscribers(self, category: str) -> list[str]:
        return [item.user for item in SubscriberItem.query(_subscribers_key(category))]
