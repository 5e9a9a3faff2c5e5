"""Product rules: creation, partial update, deletion and listing. No HTTP, no boto."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from catalog.core.cursor import page_cursor, position_after
from catalog.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
    VersionConflict,
)
from catalog.core.types import now_millis
from catalog.identity.principal import Principal
from catalog.products.listing import ListingPlan, terms_of
from catalog.products.schemas import (
    PRODUCT_ID_PATTERN,
    Product,
    ProductCreate,
    ProductPage,
    ProductPatch,
    ProductQuery,
)

MAX_TERMS = 5  # words of a search that count (the rest are ignored)
MAX_WRITE_ATTEMPTS = 3  # re-reads when a concurrent writer got there first
_ID = re.compile(PRODUCT_ID_PATTERN)


class ProductStore(Protocol):
    """The persistence port the service needs (DynamoDB in production, a fake in tests)."""

    def get(self, product_id: str) -> Product: ...
    def create(self, product: Product) -> None: ...
    def replace(self, current: Product, updated: Product) -> None: ...
    def delete(self, current: Product) -> None: ...
    def list_page(self, plan: ListingPlan) -> tuple[list[Product], str | None]: ...


def _changed_meanwhile() -> PreconditionFailed:
    return PreconditionFailed("The product changed since you read it; read it again.")


def _check_precondition(current: Product, if_match: frozenset[int] | None) -> None:
    if if_match is not None and current.version not in if_match:
        raise PreconditionFailed(
            f"The product is at version {current.version}; read it again before changing it."
        )


def _may_change(product: Product, by: Principal | None) -> bool:
    return by is not None and (by.is_admin or (by.role == "editor" and by.sub == product.owner))


class ProductService:
    def __init__(self, store: ProductStore, clock: Callable[[], datetime] = now_millis) -> None:
        self._store = store
        self._clock = clock

    def new_product(self, data: ProductCreate, by: Principal) -> Product:
        """The product `data` describes, owned by `by`, not yet stored."""
        # Imported here: python-ulid looks its version up among the installed distributions
        # on import (~30 ms of every cold start); only creates need it.
        from ulid import ULID

        now = self._clock()
        return Product(
            id=str(ULID.from_datetime(now)),
            owner=by.sub,
            created_at=now,
            updated_at=now,
            version=1,
            **data.model_dump(),
        )

    def changed(self, current: Product, patch: ProductPatch) -> Product:
        """`current` with `patch` applied, as its next version, not yet stored."""
        return current.model_copy(
            update={
                **patch.changes(),
                "updated_at": max(self._clock(), current.updated_at),
                "version": current.version + 1,
            }
        )

    def create(self, data: ProductCreate, by: Principal) -> Product:
        product = self.new_product(data, by)
        self._store.create(product)
        return product

    def get(self, product_id: str, by: Principal | None) -> Product:
        """A product the caller may see: active ones to anyone, others to their owner and
        admins; to everyone else a hidden product does not exist (404, not 403)."""
        if not _ID.match(product_id):
            raise NotFound(f"{product_id!r} is not a product id.")
        product = self._store.get(product_id)
        if product.status != "active" and not _may_change(product, by):
            raise NotFound(f"No product has the id {product_id}.")
        return product

    def get_for_change(
        self, product_id: str, by: Principal, if_match: frozenset[int] | None = None
    ) -> Product:
        """The product, if `by` may change it and it is at one of the `if_match` versions."""
        product = self.get(product_id, by)
        if not _may_change(product, by):
            raise Forbidden("Only the product's owner or an admin may change it.")
        _check_precondition(product, if_match)
        return product

    def update(
        self,
        product_id: str,
        patch: ProductPatch,
        by: Principal,
        if_match: frozenset[int] | None = None,
    ) -> Product:
        """Apply `patch`. With `if_match` (the versions the client has seen) the write happens
        only on one of them, once: a concurrent change makes it 412, never a silent merge.
        Without it, a concurrent change is re-read and the patch applied again."""
        attempts = 1 if if_match is not None else MAX_WRITE_ATTEMPTS
        for _ in range(attempts):
            current = self.get_for_change(product_id, by, if_match)
            updated = self.changed(current, patch)
            try:
                self._store.replace(current, updated)
            except VersionConflict:
                continue
            return updated
        if if_match is not None:
            raise _changed_meanwhile()
        raise Conflict("The product kept changing while being updated; try again.")

    def delete(
        self, product_id: str, by: Principal, if_match: frozenset[int] | None = None
    ) -> None:
        attempts = 1 if if_match is not None else MAX_WRITE_ATTEMPTS
        for _ in range(attempts):
            current = self.get_for_change(product_id, by, if_match)
            try:
                self._store.delete(current)
            except VersionConflict:
                continue
            return
        if if_match is not None:
            raise _changed_meanwhile()
        raise Conflict("The product kept changing while being deleted; try again.")

    def list(self, query: ProductQuery, by: Principal | None) -> ProductPage:
        """One page of products of one status, filtered and ordered as `query` asks.

        Listing drafts or archived products is for admins (editors read their own drafts
        one by one). A cursor only continues the listing that issued it.
        """
        if query.status != "active" and not (by is not None and by.is_admin):
            raise Forbidden("Only admins list products that are not active.")
        check_query(query)
        listing = query.listing()
        plan = listing_plan(query, after=position_after(query.cursor, listing))
        items, next_position = self._store.list_page(plan)
        next_cursor = page_cursor(listing, next_position) if next_position else None
        return ProductPage(items=items, next_cursor=next_cursor)


def check_query(query: ProductQuery, in_body: bool = False) -> None:
    """Refuse filters that do not fit together (422 with `type: combination`): a listing's
    query parameters, and an export's body (`in_body`) alike."""
    low, high = query.min_price, query.max_price
    if low is not None and high is not None and low > high:
        raise _query_problem("max_price", "max_price must not be below min_price", in_body)
    if query.q is not None and not terms_of(query.q):
        raise _query_problem("q", "search for at least one letter or digit", in_body)


def listing_plan(
    query: ProductQuery, after: str | None = None, owner: str | None = None
) -> ListingPlan:
    """The designed listing `query` reads, starting after position `after` (with `owner`:
    only that user's products)."""
    terms = terms_of(query.q) if query.q is not None else ()
    return ListingPlan(
        status=query.status,
        category=query.category,
        order=query.order,
        descending=query.descending,
        limit=query.limit,
        after=after,
        min_price=query.min_price,
        max_price=query.max_price,
        tags=query.tags,
        tag_mode=query.tag_mode,
        in_stock=query.in_stock,
        terms=terms[:MAX_TERMS],
        owner=owner,
    )


def _query_problem(name: str, detail: str, in_body: bool = False) -> ValidationFailed:
    where = (
        {"in": "body", "pointer": f"#/{name}"} if in_body else {"in": "query", "parameter": name}
    )
    return ValidationFailed(
        f"The {'filters' if in_body else 'query parameters'} do not fit together.",
        errors=[{**where, "detail": detail, "type": "combination"}],
    )
