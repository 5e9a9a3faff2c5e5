"""Products tables on moto server for the migration tests, and catalogs stored in the
layout from before migrations (no schema_version, search words of the name and SKU only).

The tables live on a moto server of their own (moto's backends are per process, so it is
the same storage any other server of the process fronts); each test gets a fresh table,
named uniquely, that the environment points `TABLE_PRODUCTS` at while it runs.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from catalog.categories.repository import CATEGORY_SK, category_key
from catalog.core import dynamo, settings
from catalog.identity.principal import Principal
from catalog.images.schemas import ProductImage, Rendition
from catalog.products.items import (
    SKU_SK,
    copies,
    item_attributes,
    sku_key,
)
from catalog.products.schemas import Product, ProductCreate
from catalog.products.service import ProductService
from infra import topology
from infra.local.moto import apply_correctness, apply_server_speedups, put_items
from infra.local.provision import table_definition
from tests import local_systems

ADMIN = Principal(sub="admin-sub", role="admin")
MOTO_ACCOUNT = "123456789012"  # moto's default account
ADJECTIVES = ["red", "blue", "green", "amber", "ivory"]
NOUNS = ["lamp", "mug", "chair", "rug"]
MATERIALS = ["brass", "oak", "linen", "steel", "clay", "wool", "glass"]


@dataclass
class MotoEndpoint:
    url: str
    client: Any


@contextmanager
def moto_endpoint() -> Iterator[MotoEndpoint]:
    """A moto server, and the environment's AWS endpoint pointed at it (restored after),
    once the worker's local system (if any) is quiet: see tests/local_systems.py."""
    local_systems.quiet()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    apply_correctness()  # conditional writes and transactions atomic, as in DynamoDB
    apply_server_speedups()  # as the local system's moto server: the same answers, sooner
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    names = ("AWS_ENDPOINT_URL", "TABLE_PRODUCTS", "CATALOG_AWS_READ_TIMEOUT_S")
    saved = {name: os.environ.get(name) for name in names}
    os.environ["AWS_ENDPOINT_URL"] = url
    # As the local stage: moto slows down under load (catalog.core.aws, infra/stages.py).
    os.environ["CATALOG_AWS_READ_TIMEOUT_S"] = "30"
    dynamo.connection.cache_clear()
    try:
        yield MotoEndpoint(url, boto3.client("dynamodb", endpoint_url=url))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        dynamo.connection.cache_clear()
        settings.settings.cache_clear()
        server.stop()


def create_table(endpoint: MotoEndpoint, prefix: str = "migrations") -> str:
    """A new products table as the topology declares it (without its stream: nothing here
    consumes it), named uniquely; the environment's TABLE_PRODUCTS names it."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    request = table_definition(topology.TABLES["products"], name)
    request.pop("StreamSpecification", None)
    endpoint.client.create_table(**request)
    use_table(name)
    return name


def use_table(name: str) -> None:
    os.environ["TABLE_PRODUCTS"] = name


def _moto_table(table: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[MOTO_ACCOUNT][os.environ["AWS_DEFAULT_REGION"]].get_table(table)


def scan_all(client: Any, table: str) -> list[dict[str, Any]]:
    """Every item of `table` (DynamoDB JSON), read from moto's storage in this process: a
    Scan through the server costs moto about 2 ms per item (it sorts the table per page),
    which is most of a test's time at thousands of items. `client` is unused but states
    which endpoint's storage is meant."""
    del client
    stored = _moto_table(table).items
    return [
        json.loads(json.dumps(item.to_json()["Attributes"]))
        for partition in stored.values()
        for item in partition.values()
    ]


def by_key(items: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(item["pk"]["S"], item["sk"]["S"]): item for item in items}


def data_items(client: Any, table: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Every item but the migrations' own records and lease."""
    return {
        key: item
        for key, item in by_key(scan_all(client, table)).items()
        if not key[0].startswith("MIGRATION#")
    }


def make_products(count: int, categories: list[str], unique: str = "m") -> list[Product]:
    """`count` products over `categories`, with tags, descriptions and images: 4 in 5
    active, names of three words, SKUs like `LAMP-000042`."""
    service = ProductService(store=None)  # type: ignore[arg-type]  # builds, never stores
    products = []
    for n in range(count):
        noun = NOUNS[n % 4]
        product = service.new_product(
            ProductCreate(
                sku=f"{noun.upper()}-{unique}{n:06d}",
                name=f"{ADJECTIVES[n % 5]} {noun} {unique}{n % 10}",
                description=f"Made of {MATERIALS[n % 7]}, finish {n % 13}.",
                category=categories[n % len(categories)],
                status="active" if n % 5 else "draft",
                price=Decimal(n % 100) + Decimal("0.99"),
                currency="EUR",
                stock=n % 3,
                tags=[t for t, every in (("two", 2), ("three", 3)) if n % every == 0],
            ),
            ADMIN,
        )
        if n % 4 == 0:
            product = product.model_copy(update={"images": [_image(product, n)]})
        products.append(product)
    return products


def _image(product: Product, n: int) -> ProductImage:
    return ProductImage(
        id=f"img{n:06d}",
        status="ready",
        content_type="image/jpeg",
        created_at=product.created_at,
        updated_at=product.created_at,
        width=800,
        height=600,
        renditions=[Rendition(size=256, width=256, height=192, key=f"images/{n}/256.webp")],
        max_bytes=1_000_000,
        upload_expires_at=product.created_at,
    )


def _python(model: Any) -> dict[str, Any]:
    return dict(model.serialize())


def old_layout_items(product: Product) -> list[dict[str, Any]]:
    """What the code before migrations stored for `product` (DynamoDB JSON): the item, its
    tag and word copies (words of the name and SKU only) and its SKU guard, none with a
    schema_version."""
    from catalog.products.items import ProductItem, SkuGuard

    item = ProductItem(**item_attributes(product))
    item.version = product.version
    stored = [_python(item), *(_python(c) for c in copies(product, schema_version=1).values())]
    stored.append(_python(SkuGuard(pk=sku_key(product.sku), sk=SKU_SK, product_id=product.id)))
    for raw in stored:
        raw.pop("schema_version", None)
    return stored


def old_category_item(slug: str, products: list[Product]) -> dict[str, Any]:
    """A category as stored before migrations: its product count (no count of the active
    ones: categories got it later), no schema_version."""
    mine = [p for p in products if p.category == slug]
    return {
        "pk": {"S": category_key(slug)},
        "sk": {"S": CATEGORY_SK},
        "kind": {"S": "category"},
        "gsi1pk": {"S": "CATEGORIES"},
        "gsi1sk": {"S": slug},
        "slug": {"S": slug},
        "name": {"S": slug.title()},
        "product_count": {"N": str(len(mine))},
        "child_count": {"N": "0"},
        "created_at": {"S": "2026-01-01T00:00:00.000Z"},
        "updated_at": {"S": "2026-01-01T00:00:00.000Z"},
        "version": {"N": "1"},
    }


def fresh_category_item(slug: str, products: list[Product]) -> dict[str, Any]:
    """A category as the code writes it now."""
    from catalog.categories.repository import SCHEMA_VERSION

    active = sum(p.status == "active" for p in products if p.category == slug)
    return {
        **old_category_item(slug, products),
        "active_count": {"N": str(active)},
        "schema_version": {"N": str(SCHEMA_VERSION)},
    }


def write_raw(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    """Store `items` (DynamoDB JSON) as PutItem would, straight into moto's backend (the
    server is in this process): thousands of items in a fraction of a second, where
    BatchWriteItem over HTTP takes seconds (tests/integration/test_bench_moto_index.py
    shows `put_items` stores what PutItem stores)."""
    put_items(_moto_table(table), items)


def store_old_catalog(
    client: Any, table: str, products: list[Product], categories: list[str]
) -> None:
    items = [raw for product in products for raw in old_layout_items(product)]
    items += [old_category_item(slug, products) for slug in categories]
    write_raw(client, table, items)


def fresh_items(product: Product) -> list[dict[str, Any]]:
    """What the code writes for `product` now (DynamoDB JSON)."""
    from catalog.products.items import SkuGuard, to_item

    item = to_item(product, stored_version=None)
    item.version = product.version
    return [
        _python(item),
        *(_python(c) for c in copies(product).values()),
        _python(SkuGuard(pk=sku_key(product.sku), sk=SKU_SK, product_id=product.id)),
    ]
