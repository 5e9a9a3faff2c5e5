"""Subscription rules: only categories that exist."""

from __future__ import annotations

from datetime import UTC, datetime

from catalog.categories.repository import CategoryRepository, missing_category
from catalog.core.errors import NotFound
from catalog.identity.principal import Principal
from catalog.subscriptions.repository import SubscriptionRepository
from catalog.subscriptions.schemas import Subscriptions, SubscriptionsPut


class SubscriptionService:
    def __init__(self, repository: SubscriptionRepository, categories: CategoryRepository) -> None:
        self.repository = repository
        self.categories = categories

    def get(self, principal: Principal) -> Subscriptions:
        return self.repository.get(principal.sub)

    def replace(self, principal: Principal, body: SubscriptionsPut) -> Subscriptions:
        for index, slug in enumerate(body.categories):
            try:
                self.categories.get(slug)
            except NotFound:
                raise missing_category(slug, f"#/categories/{index}") from None
        return self.repository.replace(principal.sub, body.categories, datetime.now(UTC))
