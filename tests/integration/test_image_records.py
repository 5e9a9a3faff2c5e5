"""Images stored on their product's DynamoDB item: read back exactly, kept by product
changes, and written only on the version that was read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from catalog.core.errors import VersionConflict
from catalog.identity.principal import Principal
from catalog.images.schemas import ProductImage, Rendition
from catalog.products.repository import ProductRepository
from catalog.products.schemas import Product, ProductCreate, ProductPatch
from catalog.products.service import ProductService
from tests.conftest import product_payload

EDITOR = Principal(sub="editor-sub", role="editor")
MOMENT = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


@pytest.fixture(scope="module")
def repository(local_system: Any) -> ProductRepository:
    return ProductRepository()


@pytest.fixture(scope="module")
def service(repository: ProductRepository) -> ProductService:
    return ProductService(repository)


def with_images(product: Product) -> Product:
    ready = ProductImage(
        id="01JC0000000000000000000001",
        status="ready",
        content_type="image/jpeg",
        created_at=MOMENT,
        updated_at=MOMENT + timedelta(seconds=1),
        width=4000,
        height=3000,
        renditions=[
            Rendition(size=256, width=256, height=192, key=f"images/{product.id}/x/256.webp"),
            Rendition(size=1024, width=1024, height=768, key=f"images/{product.id}/x/1024.webp"),
        ],
        max_bytes=5_000_000,
        upload_expires_at=MOMENT + timedelta(minutes=5),
    )
    rejected = ready.model_copy(
        update={
            "id": "01JC0000000000000000000002",
            "status": "rejected",
            "width": None,
            "height": None,
            "renditions": [],
            "reason": "The image is truncated or corrupt.",
        }
    )
    return product.model_copy(update={"images": [ready, rejected], "version": product.version + 1})


def test_images_are_stored_and_read_back_exactly(
    service: ProductService, repository: ProductRepository
) -> None:
    # Given a product an editor has just created
    product = service.create(ProductCreate.model_validate(product_payload()), EDITOR)
    # Then it has no images yet
    assert repository.get(product.id).images == []
    # When a ready and a rejected image are stored on it
    updated = with_images(product)
    repository.replace(product, updated)
    # Then the product is read back exactly as stored, images included
    assert repository.get(product.id) == updated


def test_changing_a_product_keeps_its_images(
    service: ProductService, repository: ProductRepository
) -> None:
    # Given a product with a ready and a rejected image stored on it
    product = service.create(ProductCreate.model_validate(product_payload()), EDITOR)
    updated = with_images(product)
    repository.replace(product, updated)
    # When an editor changes its stock
    changed = service.update(product.id, ProductPatch(stock=7), EDITOR)
    # Then the changed product keeps its images, as returned and as stored
    assert changed.images == updated.images
    assert repository.get(product.id).images == updated.images


def test_an_image_write_on_a_stale_version_is_refused(
    service: ProductService, repository: ProductRepository
) -> None:
    # Given a product an editor has just created
    product = service.create(ProductCreate.model_validate(product_payload()), EDITOR)
    # And a later change that moved it past the version first read
    service.update(product.id, ProductPatch(stock=1), EDITOR)  # someone else got there first
    # When images are written on the version first read
    # Then the write is refused as a version conflict
    with pytest.raises(VersionConflict):
        repository.replace(product, with_images(product))
    # And the product still has no images
    assert repository.get(product.id).images == []
