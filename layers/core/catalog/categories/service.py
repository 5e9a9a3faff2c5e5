"""Category rules: a tree (no cycles), deleted only when empty. No HTTP, no boto."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from catalog.categories.repository import Counting, missing_category
from catalog.categories.schemas import Category, CategoryCreate, CategoryList, CategoryPatch
from catalog.core.errors import Conflict, NotFound, ValidationFailed, VersionConflict
from catalog.core.types import now_millis
from catalog.identity.principal import Principal

MAX_DEPTH = 8


class CategoryStore(Protocol):
    def get(self, slug: str, counting: Counting = "all") -> Category: ...
    def list_all(self, counting: Counting = "all") -> list[Category]: ...
    def create(self, category: Category) -> None: ...
    def replace(self, current: Category, updated: Category) -> None: ...
    def delete(self, current: Category) -> None: ...


def _counting(by: Principal | None) -> Counting:
    """Which products a category counts for a caller: the active ones, as anyone may list
    them; admins, who may list drafts and archived products too, see them all."""
    return "all" if by is not None and by.is_admin else "active"


class CategoryService:
    def __init__(self, store: CategoryStore, clock: Callable[[], datetime] = now_millis) -> None:
        self._store = store
        self._clock = clock

    def get(self, slug: str, by: Principal | None = None) -> Category:
        return self._store.get(slug, _counting(by))

    def list(self, by: Principal | None = None) -> CategoryList:
        return CategoryList(items=self._store.list_all(_counting(by)))

    def create(self, data: CategoryCreate) -> Category:
        if data.parent is not None:
            self._check_parent(data.slug, data.parent)
        now = self._clock()
        category = Category(
            slug=data.slug,
            name=data.name,
            parent=data.parent,
            product_count=0,
            child_count=0,
            created_at=now,
            updated_at=now,
            version=1,
        )
        self._store.create(category)
        return category

    def update(self, slug: str, patch: CategoryPatch) -> Category:
        current = self._store.get(slug)
        changes = patch.changes()
        if changes.get("parent") is not None:
            self._check_parent(slug, changes["parent"])
        updated = current.model_copy(
            update={**changes, "updated_at": self._clock(), "version": current.version + 1}
        )
        try:
            self._store.replace(current, updated)
        except VersionConflict:
            raise Conflict("The category changed meanwhile; read it again.") from None
        return updated

    def delete(self, slug: str) -> None:
        self._store.delete(self._store.get(slug))

    def _check_parent(self, slug: str, parent: str) -> None:
        """The parent chain must not come back to `slug` (nor be absurdly deep)."""
        seen = {slug}
        cursor: str | None = parent
        for _ in range(MAX_DEPTH):
            if cursor is None:
                return
            if cursor in seen:
                raise _bad_parent("A category cannot be its own ancestor.")
            seen.add(cursor)
            ancestor = cursor
            try:
                cursor = self._store.get(ancestor).parent
            except NotFound:
                raise missing_category(ancestor, "#/parent") from None
        raise _bad_parent(f"Categories nest at most {MAX_DEPTH} deep.")


def _bad_parent(detail: str) -> ValidationFailed:
    return ValidationFailed(
        detail, errors=[{"in": "body", "pointer": "#/parent", "detail": detail, "type": "parent"}]
    )
