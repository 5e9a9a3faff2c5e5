"""Image rules against in-memory products and bucket: limits, ownership, processing,
redelivery and races with deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from catalog.core.errors import Conflict, Forbidden, NotFound
from catalog.identity.principal import Principal
from catalog.images.schemas import ImageUploadRequest, UploadForm
from catalog.images.service import (
    ABANDONED_AFTER,
    UPLOAD_FORM_TTL,
    ImageService,
    rendition_key,
    upload_key,
)
from catalog.images.storage import TooLarge
from catalog.products.schemas import ProductCreate
from catalog.products.service import ProductService
from tests import images
from tests.conftest import product_payload
from tests.fakes import InMemoryProductStore

EDITOR = Principal(sub="editor-1", role="editor")
OTHER_EDITOR = Principal(sub="editor-2", role="editor")
ADMIN = Principal(sub="admin-1", role="admin")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=5)
        return self.now


class InMemoryBucket:
    def __init__(self, clock: Clock) -> None:
        self.objects: dict[str, tuple[bytes, datetime]] = {}
        self.forms: list[tuple[str, str, int, int]] = []
        self._clock = clock

    def presigned_post(
        self, key: str, content_type: str, max_bytes: int, expires_s: int
    ) -> UploadForm:
        self.forms.append((key, content_type, max_bytes, expires_s))
        return UploadForm(url="https://bucket.example", fields={"key": key})

    def upload(self, key: str, data: bytes) -> None:
        self.objects[key] = (data, self._clock.now)

    def read(self, key: str, limit: int) -> tuple[bytes, datetime] | None:
        stored = self.objects.get(key)
        if stored is not None and len(stored[0]) > limit:
            raise TooLarge(len(stored[0]))
        return stored

    def write(self, key: str, data: bytes, content_type: str, cache_control: str) -> None:
        assert content_type == "image/webp"
        self.objects[key] = (data, self._clock.now)

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            self.objects.pop(key, None)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> InMemoryProductStore:
    return InMemoryProductStore()


@pytest.fixture
def bucket(clock: Clock) -> InMemoryBucket:
    return InMemoryBucket(clock)


@pytest.fixture
def products(store: InMemoryProductStore, clock: Clock) -> ProductService:
    return ProductService(store, clock=clock)


@pytest.fixture
def service(
    products: ProductService, store: InMemoryProductStore, bucket: InMemoryBucket, clock: Clock
) -> ImageService:
    return ImageService(products, store, bucket, clock=clock)


@pytest.fixture
def product_id(products: ProductService) -> str:
    return products.create(ProductCreate.model_validate(product_payload()), EDITOR).id


JPEG = ImageUploadRequest(content_type="image/jpeg", content_length=1_000_000)


def test_a_request_records_a_pending_image_and_signs_a_form_for_its_key(
    service: ImageService, products: ProductService, bucket: InMemoryBucket, product_id: str
) -> None:
    upload = service.request_upload(product_id, JPEG, EDITOR)
    product = products.get(product_id, None)
    assert [(i.id, i.status) for i in product.images] == [(upload.image_id, "pending")]
    assert product.version == 2
    assert bucket.forms == [(upload_key(product_id, upload.image_id), "image/jpeg", 1_000_000, 300)]


def test_only_the_owner_or_an_admin_may_add_or_remove_images(
    service: ImageService, product_id: str
) -> None:
    with pytest.raises(Forbidden):
        service.request_upload(product_id, JPEG, OTHER_EDITOR)
    image_id = service.request_upload(product_id, JPEG, ADMIN).image_id
    with pytest.raises(Forbidden):
        service.delete_image(product_id, image_id, OTHER_EDITOR)


def test_the_eleventh_image_is_refused_until_one_is_deleted(
    service: ImageService, product_id: str
) -> None:
    ids = [service.request_upload(product_id, JPEG, EDITOR).image_id for _ in range(10)]
    with pytest.raises(Conflict, match="at most 10"):
        service.request_upload(product_id, JPEG, EDITOR)
    service.delete_image(product_id, ids[0], EDITOR)
    service.request_upload(product_id, JPEG, EDITOR)


def test_abandoned_pending_images_stop_counting(
    service: ImageService, product_id: str, clock: Clock
) -> None:
    for _ in range(10):
        service.request_upload(product_id, JPEG, EDITOR)
    clock.now += UPLOAD_FORM_TTL + ABANDONED_AFTER + timedelta(seconds=1)
    service.request_upload(product_id, JPEG, EDITOR)


def test_an_upload_becomes_ready_and_its_original_is_deleted(
    service: ImageService, products: ProductService, bucket: InMemoryBucket, product_id: str
) -> None:
    image_id = service.request_upload(product_id, JPEG, EDITOR).image_id
    key = upload_key(product_id, image_id)
    bucket.upload(key, images.photo(2000, 1000))
    assert service.process_upload(key).status == "ready"
    image = products.get(product_id, None).images[0]
    assert (image.status, image.width, image.height) == ("ready", 2000, 1000)
    assert [(r.size, r.width, r.height) for r in image.renditions] == [
        (256, 256, 128),
        (1024, 1024, 512),
    ]
    assert set(bucket.objects) == {rendition_key(product_id, image_id, s) for s in (256, 1024)}


def test_redelivery_changes_nothing(
    service: ImageService, products: ProductService, bucket: InMemoryBucket, product_id: str
) -> None:
    image_id = service.request_upload(product_id, JPEG, EDITOR).image_id
    key = upload_key(product_id, image_id)
    bucket.upload(key, images.photo())
    service.process_upload(key)
    after_first = products.get(product_id, None)
    # The same event again, and even the same bytes uploaded again with the old form
    assert service.process_upload(key).status == "ignored"
    bucket.upload(key, b"not an image")
    assert service.process_upload(key).status == "ignored"
    assert products.get(product_id, None) == after_first
    assert key not in bucket.objects


@pytest.mark.parametrize(
    ("data", "declared", "reason"),
    [
        (b"plain text\n", "image/jpeg", "not a JPEG"),
        (images.truncated(images.photo()), "image/jpeg", "truncated"),
        (images.png_bomb(), "image/png", "pixels"),
        (images.photo() + b"\0" * 1_000_000, "image/jpeg", "at most 1000000 were declared"),
    ],
    ids=["text", "truncated", "bomb", "more-than-declared"],
)
def test_a_bad_upload_is_rejected_with_its_reason_and_deleted(
    service: ImageService,
    products: ProductService,
    bucket: InMemoryBucket,
    product_id: str,
    data: bytes,
    declared: str,
    reason: str,
) -> None:
    request = ImageUploadRequest.model_validate(
        {"content_type": declared, "content_length": 1_000_000}
    )
    image_id = service.request_upload(product_id, request, EDITOR).image_id
    key = upload_key(product_id, image_id)
    bucket.upload(key, data)
    outcome = service.process_upload(key)
    image = products.get(product_id, None).images[0]
    assert (outcome.status, image.status) == ("rejected", "rejected")
    assert image.reason is not None and reason in image.reason
    assert image.renditions == []
    assert bucket.objects == {}


def test_an_upload_after_the_form_expired_is_rejected(
    service: ImageService,
    products: ProductService,
    bucket: InMemoryBucket,
    product_id: str,
    clock: Clock,
) -> None:
    image_id = service.request_upload(product_id, JPEG, EDITOR).image_id
    clock.now += timedelta(hours=1)
    key = upload_key(product_id, image_id)
    bucket.upload(key, images.photo())
    assert service.process_upload(key).status == "rejected"
    assert "expired" in (products.get(product_id, None).images[0].reason or "")


def test_uploads_nobody_asked_for_are_deleted_unread(
    service: ImageService, bucket: InMemoryBucket, product_id: str
) -> None:
    stray = [
        upload_key(product_id, "01JC0000000000000000000000"),  # no such image
        upload_key("01JC0000000000000000000000", "01JC0000000000000000000001"),  # no product
        "uploads/../images/x",
    ]
    for key in stray:
        bucket.upload(key, images.photo())
        assert service.process_upload(key).status == "ignored"
    assert bucket.objects == {}


def test_an_image_deleted_while_processing_leaves_no_file(
    service: ImageService, store: InMemoryProductStore, bucket: InMemoryBucket, product_id: str
) -> None:
    image_id = service.request_upload(product_id, JPEG, EDITOR).image_id
    key = upload_key(product_id, image_id)
    bucket.upload(key, images.photo())
    original_write = bucket.write

    def write_then_delete(*args: object, **kwargs: object) -> None:
        original_write(*args, **kwargs)  # type: ignore[arg-type]
        if len(bucket.objects) == 2:  # the upload and the first rendition
            service.delete_image(product_id, image_id, EDITOR)

    bucket.write = write_then_delete  # type: ignore[method-assign]
    assert service.process_upload(key).status == "ignored"
    assert bucket.objects == {}
    assert store.get(product_id).images == []


def test_deleting_an_image_removes_its_files_and_unknown_ids_are_404(
    service: ImageService, bucket: InMemoryBucket, product_id: str
) -> None:
    image_id = service.request_upload(product_id, JPEG, EDITOR).image_id
    key = upload_key(product_id, image_id)
    bucket.upload(key, images.photo())
    service.process_upload(key)
    service.delete_image(product_id, image_id, EDITOR)
    assert bucket.objects == {}
    with pytest.raises(NotFound):
        service.delete_image(product_id, image_id, EDITOR)


def test_delete_files_removes_every_file_of_the_images_named(
    service: ImageService, bucket: InMemoryBucket, product_id: str
) -> None:
    image_id = service.request_upload(product_id, JPEG, EDITOR).image_id
    late_id = service.request_upload(product_id, JPEG, EDITOR).image_id
    bucket.upload(upload_key(product_id, image_id), images.photo())
    service.process_upload(upload_key(product_id, image_id))
    bucket.upload(upload_key(product_id, late_id), images.photo())  # not processed yet
    bucket.upload("images/OTHERPRODUCT/x/256.webp", b"x")
    assert len(bucket.objects) == 4
    service.delete_files(product_id, [image_id, late_id])
    assert list(bucket.objects) == ["images/OTHERPRODUCT/x/256.webp"]
