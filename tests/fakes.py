"""In-memory stores with the same contracts as the DynamoDB repositories."""

from __future__ import annotations

import threading

from catalog.core.errors import DuplicateSku, InvalidCursor, NotFound, VersionConflict
from catalog.identity.revocation import AccessRecord
from catalog.products.listing import POSITION, ListingPlan, first_match, position_of
from catalog.products.schemas import Product


class InMemoryProductStore:
    def __init__(self) -> None:
        self.products: dict[str, Product] = {}
        self.skus: dict[str, str] = {}
        self.conflicts_to_inject = 0
        self._lock = threading.Lock()

    def get(self, product_id: str) -> Product:
        try:
            return self.products[product_id]
        except KeyError:
            raise NotFound(f"No product has the id {product_id}.") from None

    def create(self, product: Product) -> None:
        with self._lock:
            if product.sku.upper() in self.skus:
                raise DuplicateSku(f"Another product already has the SKU {product.sku}.")
            self.skus[product.sku.upper()] = product.id
            self.products[product.id] = product

    def _check(self, current: Product) -> None:
        if self.conflicts_to_inject:
            self.conflicts_to_inject -= 1
            raise VersionConflict(current.id)
        stored = self.products.get(current.id)
        if stored is None or stored.version != current.version:
            raise VersionConflict(current.id)

    def replace(self, current: Product, updated: Product) -> None:
        with self._lock:
            self._check(current)
            new_key, old_key = updated.sku.upper(), current.sku.upper()
            if new_key != old_key:
                if new_key in self.skus:
                    raise DuplicateSku(f"Another product already has the SKU {updated.sku}.")
                del self.skus[old_key]
                self.skus[new_key] = updated.id
            self.products[updated.id] = updated

    def delete(self, current: Product) -> None:
        with self._lock:
            self._check(current)
            del self.products[current.id]
            del self.skus[current.sku.upper()]

    def list_page(self, plan: ListingPlan) -> tuple[list[Product], str | None]:
        if plan.after is not None and not POSITION[plan.order].match(plan.after):
            raise InvalidCursor("The cursor is not one this API issued.")
        source = plan.source
        term = source.key if source.kind == "words" else None
        chosen = [
            p
            for p in self.products.values()
            if plan.wants(p) and (term is None or first_match(p, term) is not None)
        ]
        ordered = sorted(
            chosen, key=lambda p: position_of(p, plan.order, term), reverse=plan.descending
        )
        if plan.after is not None:
            after = plan.after

            def beyond(product: Product) -> bool:
                position = position_of(product, plan.order, term)
                return position < after if plan.descending else position > after

            ordered = [p for p in ordered if beyond(p)]
        page = ordered[: plan.limit]
        more = len(ordered) > plan.limit
        return page, position_of(page[-1], plan.order, term) if more else None


class MemoryRecords:
    """Access records in a dict, counting reads."""

    def __init__(self, *records: AccessRecord) -> None:
        self.items = {r.sub: r for r in records}
        self.reads = 0

    def get(self, sub: str) -> AccessRecord | None:
        self.reads += 1
        return self.items.get(sub)

    def save(self, record: AccessRecord) -> None:
        self.items[record.sub] = record
