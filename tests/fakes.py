"""An in-memory product store with the same contract as the DynamoDB repository."""

from __future__ import annotations

import threading

from catalog.core.errors import DuplicateSku, NotFound, VersionConflict
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

    def list_by_creation(
        self,
        status: str,
        category: str | None,
        newest_first: bool,
        limit: int,
        after_id: str | None,
    ) -> tuple[list[Product], bool]:
        ids = sorted(
            (
                i
                for i, p in self.products.items()
                if p.status == status and category in (None, p.category)
            ),
            reverse=newest_first,
        )
        if after_id is not None:
            ids = [i for i in ids if (i < after_id if newest_first else i > after_id)]
        page = [self.products[i] for i in ids[: limit + 1]]
        return page[:limit], len(page) > limit
