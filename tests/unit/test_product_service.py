"""Product rules against an in-memory store: ids, versions, retries, pagination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from catalog.core.cursor import encode_cursor
from catalog.core.errors import Conflict, DuplicateSku, Forbidden, InvalidCursor, NotFound
from catalog.identity.principal import Principal
from catalog.products.schemas import ProductCreate, ProductPatch, ProductQuery
from catalog.products.service import ProductService
from tests.conftest import product_payload
from tests.fakes import InMemoryProductStore


class StepClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=5)
        return self.now


@pytest.fixture(autouse=True)
def _signed_cursors(signing_key: None) -> None:
    """Every test here signs cursors with the fixed key."""


@pytest.fixture
def store() -> InMemoryProductStore:
    return InMemoryProductStore()


@pytest.fixture
def service(store: InMemoryProductStore) -> ProductService:
    return ProductService(store, clock=StepClock())


EDITOR = Principal(sub="editor-1", role="editor")
OTHER_EDITOR = Principal(sub="editor-2", role="editor")
ADMIN = Principal(sub="admin-1", role="admin")
VIEWER = Principal(sub="viewer-1", role="viewer")


def create(service: ProductService, by: Principal = EDITOR, **overrides: object) -> str:
    return service.create(ProductCreate.model_validate(product_payload(**overrides)), by).id


def test_ids_are_time_sortable_and_versions_start_at_one(service: ProductService) -> None:
    first, second = create(service), create(service)
    assert first < second
    assert service.get(first, None).version == 1


def test_a_duplicate_sku_in_another_case_is_refused(service: ProductService) -> None:
    create(service, sku="Mug-1")
    with pytest.raises(DuplicateSku):
        create(service, sku="MUG-1")


def test_an_update_changes_only_the_sent_fields_and_bumps_the_version(
    service: ProductService,
) -> None:
    product_id = create(service, name="Old", stock=3)
    before = service.get(product_id, EDITOR)
    updated = service.update(product_id, ProductPatch(price=Decimal("1.50")), EDITOR)
    assert (updated.price, updated.name, updated.stock) == (Decimal("1.50"), "Old", 3)
    assert updated.version == before.version + 1
    assert updated.updated_at > before.updated_at
    assert updated.created_at == before.created_at


def test_an_update_retries_after_a_concurrent_write(
    service: ProductService, store: InMemoryProductStore
) -> None:
    product_id = create(service)
    store.conflicts_to_inject = 2
    assert service.update(product_id, ProductPatch(stock=9), EDITOR).stock == 9


def test_an_update_that_keeps_colliding_gives_up_with_409(
    service: ProductService, store: InMemoryProductStore
) -> None:
    product_id = create(service)
    store.conflicts_to_inject = 3
    with pytest.raises(Conflict):
        service.update(product_id, ProductPatch(stock=9), EDITOR)
    assert service.get(product_id, None).stock == 3


def test_a_malformed_id_is_not_found_without_touching_the_store(
    service: ProductService, store: InMemoryProductStore
) -> None:
    store.products = None  # type: ignore[assignment]  # any store access would raise
    with pytest.raises(NotFound):
        service.get("not-an-id", ADMIN)


def test_listing_pages_newest_first_without_gaps_or_repeats(service: ProductService) -> None:
    ids = [create(service) for _ in range(7)]
    seen: list[str] = []
    page = service.list(ProductQuery(limit=3), None)
    while True:
        seen += [p.id for p in page.items]
        if page.next_cursor is None:
            break
        page = service.list(ProductQuery(limit=3, cursor=page.next_cursor), None)
    assert seen == list(reversed(ids))


def test_a_cursor_from_another_listing_is_refused(service: ProductService) -> None:
    foreign = encode_cursor({"q": "categories", "after": "01J0000000000000000000000A"})
    with pytest.raises(InvalidCursor):
        service.list(ProductQuery(limit=3, cursor=foreign), None)


def test_the_creator_owns_the_product(service: ProductService) -> None:
    assert service.get(create(service, by=OTHER_EDITOR), None).owner == OTHER_EDITOR.sub


@pytest.mark.parametrize(
    ("who", "sees"),
    [(None, False), (VIEWER, False), (OTHER_EDITOR, False), (EDITOR, True), (ADMIN, True)],
)
def test_a_draft_is_seen_only_by_its_owner_and_admins(
    service: ProductService, who: Principal | None, sees: bool
) -> None:
    product_id = create(service, status="draft")
    if sees:
        assert service.get(product_id, who).status == "draft"
    else:
        with pytest.raises(NotFound):
            service.get(product_id, who)


def test_another_editor_may_not_change_or_delete_an_active_product(
    service: ProductService,
) -> None:
    product_id = create(service)
    with pytest.raises(Forbidden):
        service.update(product_id, ProductPatch(stock=1), OTHER_EDITOR)
    with pytest.raises(Forbidden):
        service.delete(product_id, OTHER_EDITOR)
    assert service.update(product_id, ProductPatch(stock=1), ADMIN).stock == 1
    service.delete(product_id, ADMIN)


def test_listing_shows_only_active_products(service: ProductService) -> None:
    active = create(service)
    create(service, status="draft")
    create(service, status="archived")
    assert [p.id for p in service.list(ProductQuery(limit=10), None).items] == [active]


def test_filters_and_order_select_the_listing_and_bind_its_cursor(service: ProductService) -> None:
    kitchen = [create(service, category="kitchen") for _ in range(3)]
    create(service, category="garden")
    query = ProductQuery(category="kitchen", sort="created_at", limit=2)
    page = service.list(query, None)
    assert [p.id for p in page.items] == kitchen[:2]
    rest = service.list(query.model_copy(update={"cursor": page.next_cursor}), None)
    assert [p.id for p in rest.items] == kitchen[2:]
    for other in ({"sort": "-created_at"}, {"category": "garden"}, {"status": "draft"}):
        with pytest.raises(InvalidCursor):
            service.list(query.model_copy(update={**other, "cursor": page.next_cursor}), ADMIN)


def test_only_admins_list_products_that_are_not_active(service: ProductService) -> None:
    draft = create(service, status="draft")
    for who in (None, VIEWER, EDITOR):
        with pytest.raises(Forbidden):
            service.list(ProductQuery(status="draft"), who)
    assert [p.id for p in service.list(ProductQuery(status="draft"), ADMIN).items] == [draft]
