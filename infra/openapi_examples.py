"""The OpenAPI document's examples: request bodies from the tests' factories, answers built
with the API's own response models (as the functions serialize them).

Only `make openapi` reads this module (the document is generated at build time): nothing
here ships in a layer. tests/unit/test_openapi_document.py validates every example against
its schema, and tests/e2e/test_contract.py sends the request examples to the local stack.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from catalog.auth.schemas import Registered, Tokens
from catalog.categories.schemas import Category, CategoryList
from catalog.exports.schemas import ExportFilters, ExportJob, ExportPage
from catalog.images.schemas import ImageUpload, ProductImage, Rendition, UploadForm
from catalog.imports.schemas import ImportCreated, ImportJob, ImportPage
from catalog.products.schemas import BatchResponse, BatchResult, Product, ProductPage
from catalog.subscriptions.schemas import Subscriptions
from catalog.users.schemas import Profile, UserPage
from catalog.webhooks.schemas import (
    Delivery,
    DeliveryList,
    PingQueued,
    Webhook,
    WebhookCreated,
    WebhookList,
)
from tests.factories import (
    PASSWORD,
    category_payload,
    image_upload_payload,
    import_request_payload,
    product_payload,
    registration_payload,
    webhook_payload,
)

PRODUCT_ID = "01JC2X3Y4Z5A6B7C8D9E0F1G2H"
IMAGE_ID = "01JC2X4M7N8P9Q0R1S2T3V4W5X"
WEBHOOK_ID = "01JC2X5A6B7C8D9E0F1G2H3J4K"
EXPORT_ID = "01JC2X9B0C1D2E3F4G5H6J7K8M"
EDITOR = "8c1f4e2a-5b7d-4c3e-9f1a-2b3c4d5e6f70"
CREATED = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
UPDATED = datetime(2026, 11, 30, 10, 2, 41, 512000, tzinfo=UTC)
# Placeholders of the right shape: a real token is a long signed JWT.
ACCESS_TOKEN = "eyJraWQiOiJleGFtcGxlIn0.eyJzdWIiOiI4YzFmNGUyYSJ9.c2lnbmF0dXJl"  # noqa: S105
IMAGES_BASE_URL = "https://images.example.com"
REFRESH_TOKEN = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIn0.cmVmcmVzaA.dG9rZW4"  # noqa: S105

MUG = product_payload(sku="MUG-ENAMEL-350", tags=["enamel", "outdoor"], stock=120)
LAMP = product_payload(
    sku="LAMP-042",
    name="Desk lamp, brass",
    description="",
    price="89.00",
    category="lighting",
    tags=["brass"],
    stock=8,
)


def _json(model: BaseModel) -> Any:
    return _public_urls(model.model_dump(mode="json", by_alias=True))


def _public_urls(value: Any) -> Any:
    """Renditions' URLs on an example CDN (the functions use the stage's IMAGES_BASE_URL)."""
    if isinstance(value, list):
        return [_public_urls(item) for item in value]
    if isinstance(value, dict):
        fixed = {key: _public_urls(item) for key, item in value.items()}
        if "url" in fixed and "size" in fixed:
            path = fixed["url"].split("/images/", 1)[-1]
            fixed["url"] = f"{IMAGES_BASE_URL}/images/{path}"
        return fixed
    return value


def _product(payload: dict[str, Any], **changes: Any) -> Product:
    fields = {**payload, **changes}
    return Product(
        id=fields.pop("id", PRODUCT_ID),
        owner=EDITOR,
        created_at=CREATED,
        updated_at=fields.pop("updated_at", CREATED),
        version=fields.pop("version", 1),
        **fields,
    )


def _image() -> ProductImage:
    return ProductImage(
        id=IMAGE_ID,
        status="ready",
        content_type="image/png",
        created_at=CREATED,
        updated_at=UPDATED,
        width=2048,
        height=1536,
        renditions=[
            Rendition(
                size=size,
                width=size,
                height=size * 3 // 4,
                key=f"images/{PRODUCT_ID}/{IMAGE_ID}/{size}.webp",
            )
            for size in (256, 1024)
        ],
        max_bytes=48213,
        upload_expires_at=CREATED,
    )


def _category(slug: str = "tea-sets", **changes: Any) -> Category:
    fields = {
        "product_count": 0,
        "child_count": 0,
        "created_at": CREATED,
        "updated_at": CREATED,
        "version": 1,
        **category_payload(slug=slug),
        **changes,
    }
    return Category(**fields)


def _profile(role: str = "viewer", **changes: Any) -> Profile:
    fields: dict[str, Any] = {
        "id": EDITOR,
        "email": registration_payload()["email"],
        "name": registration_payload()["name"],
        "role": role,
        "enabled": True,
        "created_at": CREATED,
        "updated_at": CREATED,
        **changes,
    }
    return Profile(**fields)


def _webhook(**changes: Any) -> Webhook:
    fields = {
        "id": WEBHOOK_ID,
        "active": True,
        "created_at": CREATED,
        "updated_at": CREATED,
        **webhook_payload(),
        **changes,
    }
    return Webhook(**fields)


def _tokens(refresh: bool = True) -> Tokens:
    return Tokens(
        access_token=ACCESS_TOKEN,
        id_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN if refresh else None,
        expires_in=3600,
    )


def _upload() -> ImageUpload:
    key = f"uploads/{PRODUCT_ID}/{IMAGE_ID}"
    return ImageUpload(
        image_id=IMAGE_ID,
        upload=UploadForm(
            url="https://catalog-media.s3.amazonaws.com/",
            fields={
                "key": key,
                "Content-Type": "image/png",
                "x-amz-algorithm": "AWS4-HMAC-SHA256",
                "x-amz-credential": "ASIAEXAMPLE/20261130/us-east-1/s3/aws4_request",
                "x-amz-date": "20261130T091500Z",
                "policy": "eyJleHBpcmF0aW9uIjogIjIwMjYtMTEtMzBUMDk6MzA6MDBaIn0=",
                "x-amz-signature": "5d41402abc4b2a76b9719d911017c592",
            },
        ),
        expires_at=CREATED + timedelta(minutes=15),
    )


IMPORT_ID = "01JC2Y0A1B2C3D4E5F6G7H8J9K"


def _import_job(**changes: Any) -> ImportJob:
    fields: dict[str, Any] = {
        "id": IMPORT_ID,
        "owner": EDITOR,
        "format": "csv",
        "mode": "create",
        "content_length": 1834,
        "status": "done",
        "rows_total": 12,
        "rows_done": 12,
        "created": 11,
        "failed": 1,
        "created_at": CREATED,
        "updated_at": UPDATED,
        "report_url": f"https://catalog-imports.s3.amazonaws.com/reports/{IMPORT_ID}.csv"
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900&X-Amz-Signature=5d41402a",
    }
    fields.update(changes)
    return ImportJob(**fields)


def _import_created() -> ImportCreated:
    form = _upload().upload
    fields = {**form.fields, "key": f"uploads/{IMPORT_ID}", "Content-Type": "text/csv"}
    pending = _import_job(
        status="pending",
        rows_total=None,
        rows_done=0,
        created=0,
        failed=0,
        updated_at=CREATED,
        report_url=None,
    )
    return ImportCreated(
        job=pending,
        upload=UploadForm(url="https://catalog-imports.s3.amazonaws.com/", fields=fields),
        expires_at=CREATED + timedelta(minutes=5),
    )


def _export(**changes: Any) -> ExportJob:
    fields: dict[str, Any] = {
        "id": EXPORT_ID,
        "status": "done",
        "format": "csv",
        "filters": ExportFilters.model_validate({"category": "kitchen", "in_stock": True}),
        "owner": EDITOR,
        "own_products_only": True,
        "rows": 120,
        "size": 18_240,
        "created_at": CREATED,
        "updated_at": CREATED + timedelta(seconds=3),
        "download_url": f"https://catalog-exports.s3.amazonaws.com/exports/{EXPORT_ID}.csv"
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900&X-Amz-Signature=5d41402a",
        "download_expires_at": CREATED + timedelta(minutes=15),
    }
    return ExportJob(**{**fields, **changes})


def _batch() -> BatchResponse:
    return BatchResponse(
        atomic=False,
        applied=2,
        results=[
            BatchResult(
                index=0, status=201, product=_product(LAMP, id="01JC2X6P7Q8R9S0T1V2W3X4Y5Z")
            ),
            BatchResult(index=1, status=200, product=_product(MUG, stock=100, version=2)),
            BatchResult(
                index=2,
                status=404,
                error={
                    "type": "urn:catalog:problem:not-found",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "No product 01JC2X7A8B9C0D1E2F3G4H5J6K.",
                },
            ),
        ],
    )


# operation -> (request example or None, {status: response example})
Examples = tuple[Any, dict[int, Any]]


def _examples() -> dict[str, Examples]:
    registration = registration_payload()
    email = registration["email"]
    return {
        "health": (
            None,
            {
                200: {"status": "ok", "checks": {"dynamodb": "ok"}},
                503: {"status": "degraded", "checks": {"dynamodb": "failing"}},
            },
        ),
        "list_products": (
            None,
            {
                200: _json(
                    ProductPage(items=[_product(MUG)], next_cursor="eyJrIjoiTVVHLTAwMSJ9.c2ln")
                )
            },
        ),
        "create_product": (MUG, {201: _json(_product(MUG))}),
        "batch": (
            {
                "atomic": False,
                "operations": [
                    {"op": "create", "product": LAMP},
                    {"op": "update", "id": PRODUCT_ID, "changes": {"stock": 100}, "if_match": 1},
                    {"op": "delete", "id": "01JC2X7A8B9C0D1E2F3G4H5J6K"},
                ],
            },
            {200: _json(_batch())},
        ),
        "get_product": (None, {200: _json(_product(MUG, images=[_image()]))}),
        "update_product": (
            {"price": "12.90", "stock": 80},
            {200: _json(_product(MUG, price="12.90", stock=80, version=2, updated_at=UPDATED))},
        ),
        "delete_product": (None, {}),
        "list_categories": (
            None,
            {
                200: _json(
                    CategoryList(
                        items=[
                            _category("home", name="Home", parent=None, child_count=1),
                            _category("kitchen", name="Kitchen", parent="home", product_count=12),
                        ]
                    )
                )
            },
        ),
        "create_category": (category_payload(), {201: _json(_category())}),
        "get_category": (None, {200: _json(_category())}),
        "update_category": (
            {"name": "Tea and coffee sets"},
            {200: _json(_category(name="Tea and coffee sets", version=2))},
        ),
        "delete_category": (None, {}),
        "register": (
            registration,
            {201: _json(Registered(email=email, confirmation_required=True))},
        ),
        "confirm": ({"email": email, "code": "482913"}, {}),
        "login": ({"email": email, "password": PASSWORD}, {200: _json(_tokens())}),
        "refresh": ({"refresh_token": REFRESH_TOKEN}, {200: _json(_tokens(refresh=False))}),
        "logout": (None, {}),
        "forgot_password": ({"email": email}, {}),
        "reset_password": (
            {"email": email, "code": "482913", "password": "New-Passw0rd-Strong!"},
            {},
        ),
        "get_me": (None, {200: _json(_profile("editor"))}),
        "update_me": (
            {"name": "Ada King"},
            {200: _json(_profile("editor", name="Ada King", updated_at=UPDATED))},
        ),
        "list_users": (None, {200: _json(UserPage(items=[_profile("editor")], next_cursor=None))}),
        "get_user": (None, {200: _json(_profile("editor"))}),
        "administer_user": (
            {"role": "editor"},
            {200: _json(_profile("editor", updated_at=UPDATED))},
        ),
        "delete_user": (None, {}),
        "request_upload": (image_upload_payload(), {201: _json(_upload())}),
        "delete_image": (None, {}),
        "request_import": (import_request_payload(), {201: _json(_import_created())}),
        "list_imports": (None, {200: _json(ImportPage(items=[_import_job()]))}),
        "get_import": (None, {200: _json(_import_job())}),
        "start_export": (
            {"format": "csv", "category": "kitchen", "in_stock": True},
            {
                202: _json(
                    _export(
                        status="pending",
                        rows=0,
                        size=None,
                        updated_at=CREATED,
                        download_url=None,
                        download_expires_at=None,
                    )
                )
            },
        ),
        "list_exports": (None, {200: _json(ExportPage(items=[_export()], next_cursor=None))}),
        "get_export": (None, {200: _json(_export())}),
        "list_webhooks": (None, {200: _json(WebhookList(items=[_webhook()]))}),
        "create_webhook": (
            webhook_payload(),
            {
                201: _json(
                    WebhookCreated(
                        secret="whsec_3q2+7w==example",  # noqa: S106 - an example, not a secret
                        **_json(_webhook()),
                    )
                )
            },
        ),
        "get_webhook": (None, {200: _json(_webhook())}),
        "update_webhook": ({"active": False}, {200: _json(_webhook(active=False))}),
        "delete_webhook": (None, {}),
        "ping_webhook": (None, {202: _json(PingQueued(event_id="01JC2X8M9N0P1Q2R3S4T5V6W7X"))}),
        "list_deliveries": (
            None,
            {
                200: _json(
                    DeliveryList(
                        items=[
                            Delivery(
                                event_id="01JC2X8M9N0P1Q2R3S4T5V6W7X",
                                event_type="webhook.ping",
                                attempt=1,
                                ok=True,
                                status_code=200,
                                duration_ms=84,
                                error=None,
                                at=UPDATED,
                            )
                        ]
                    )
                )
            },
        ),
        "get_subscriptions": (
            None,
            {200: _json(Subscriptions(categories=["kitchen"], updated_at=UPDATED))},
        ),
        "put_subscriptions": (
            {"categories": ["kitchen", "lighting"]},
            {200: _json(Subscriptions(categories=["kitchen", "lighting"], updated_at=UPDATED))},
        ),
    }


EXAMPLES = _examples()


def add(operation_name: str, operation: dict[str, Any]) -> None:
    """Put the operation's examples beside its request and response schemas."""
    if operation_name not in EXAMPLES:
        raise LookupError(f"{operation_name} has no examples in {__name__}: add them")
    request, responses = EXAMPLES[operation_name]
    body = operation.get("requestBody")
    if (body is None) != (request is None):
        raise ValueError(f"{operation_name}: a request example exactly when it takes a body")
    if body is not None:
        body["content"]["application/json"]["example"] = request
    for status, response in operation["responses"].items():
        content = response.get("content", {}).get("application/json")
        if content is None:
            continue  # a problem (shared examples) or no body
        if int(status) not in responses:
            raise LookupError(f"{operation_name} has no example of its {status} answer")
        content["example"] = responses[int(status)]
