"""The DynamoDB repository against moto server: transactions, guards, no partial state."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from catalog.core.errors import DuplicateSku, NotFound, VersionConflict
from catalog.identity.principal import Principal
from catalog.products.repository import ProductRepository
from catalog.products.schemas import Product, ProductCreate
from catalog.products.service import ProductService
from tests.conftest import product_payload


@pytest.fixture(scope="module")
def repository(local_system: Any) -> ProductRepository:
    return ProductRepository()


@pytest.fixture(scope="module")
def service(repository: ProductRepository) -> ProductService:
    return ProductService(repository)


def stored_items(local_system: Any, product: Product) -> list[dict[str, Any]]:
    """Every item a product may own: its own partition (item and copies) and its SKU guard.

    Read by key: the session's table holds every other test's products too, and a scan of it
    on moto costs minutes.
    """
    client = boto3.client("dynamodb", endpoint_url=local_system.aws_url)
    name = local_system.names["tables"]["products"]
    own = client.query(
        TableName=name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"PRODUCT#{product.id}"}},
        ConsistentRead=True,
    )["Items"]
    guard = client.get_item(
        TableName=name,
        Key={"pk": {"S": f"SKU#{product.sku.upper()}"}, "sk": {"S": "SKU"}},
        ConsistentRead=True,
    ).get("Item")
    return [*own, *([guard] if guard and guard["product_id"]["S"] == product.id else [])]


def keys_for(local_system: Any, product: Product) -> set[str]:
    return {item["pk"]["S"] for item in stored_items(local_system, product)}


EDITOR = Principal(sub="editor-sub", role="editor")


def new_product(service: ProductService, **overrides: Any) -> Product:
    return service.create(ProductCreate.model_validate(product_payload(**overrides)), EDITOR)


def test_a_product_and_its_sku_guard_are_written_together(
    service: ProductService, local_system: Any
) -> None:
    # When an editor creates a product
    product = new_product(service)
    # Then its item and its SKU guard are both stored
    assert keys_for(local_system, product) == {
        f"PRODUCT#{product.id}",
        f"SKU#{product.sku.upper()}",
    }


def test_a_refused_duplicate_leaves_no_product_item(
    service: ProductService, repository: ProductRepository, local_system: Any
) -> None:
    # Given a product already holding a SKU
    existing = new_product(service)
    # And a second product with the same SKU in lower case, with tags
    refused = service.new_product(
        ProductCreate.model_validate(product_payload(sku=existing.sku.lower(), tags=["a", "b"])),
        EDITOR,
    )
    # When the second product is written
    # Then it is refused as a duplicate SKU
    with pytest.raises(DuplicateSku):
        repository.create(refused)
    # And nothing of it was stored
    assert stored_items(local_system, refused) == []  # no item, no tag or word copy
    # And the first product keeps its item and its guard
    assert keys_for(local_system, existing) == {  # the guard still names the first product
        f"PRODUCT#{existing.id}",
        f"SKU#{existing.sku.upper()}",
    }


@pytest.mark.parametrize("round_number", range(10))
def test_concurrent_creates_of_one_sku_let_exactly_one_win(
    service: ProductService, round_number: int
) -> None:
    # Given one product payload
    payload = product_payload()
    # And four writers that start together, two with its SKU and two with it in lower case
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def attempt(sku: str) -> None:
        barrier.wait()
        try:
            service.create(ProductCreate.model_validate({**payload, "sku": sku}), EDITOR)
            outcomes.append("created")
        except DuplicateSku:
            outcomes.append("duplicate")

    # When all four create the product at once
    skus = [payload["sku"], payload["sku"].lower(), payload["sku"], payload["sku"].lower()]
    threads = [threading.Thread(target=attempt, args=(sku,)) for sku in skus]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one is created and the other three are refused as duplicates
    assert sorted(outcomes) == ["created", "duplicate", "duplicate", "duplicate"]


def test_a_stale_write_is_a_version_conflict_and_changes_nothing(
    service: ProductService, repository: ProductRepository
) -> None:
    # Given a product that a first write moved on to version 2
    product = new_product(service)
    fresh = product.model_copy(update={"stock": 50, "version": 2})
    repository.replace(product, fresh)
    # When a second write, based on the same old version, changes stock and SKU
    # Then it is refused as a version conflict
    stale = product.model_copy(update={"stock": 99, "sku": product.sku + "-X", "version": 2})
    with pytest.raises(VersionConflict):
        repository.replace(product, stale)
    # And the stored product still has the first write's stock, its SKU and version 2
    stored = repository.get(product.id)
    assert (stored.stock, stored.sku, stored.version) == (50, product.sku, 2)
    # And another product can still be created with the SKU it wanted
    # the refused SKU change did not claim the new SKU either
    new_product(service, sku=product.sku + "-X")


def test_a_stale_delete_is_a_version_conflict_and_deletes_nothing(
    service: ProductService, repository: ProductRepository, local_system: Any
) -> None:
    # Given a product that a write moved on to version 2
    product = new_product(service)
    repository.replace(product, product.model_copy(update={"version": 2}))
    # When a delete based on the old version is attempted
    # Then it is refused as a version conflict
    with pytest.raises(VersionConflict):
        repository.delete(product)
    # And the product and its guard are both still stored
    assert len(keys_for(local_system, product)) == 2


def test_delete_removes_the_product_and_its_guard(
    service: ProductService, repository: ProductRepository, local_system: Any
) -> None:
    # Given a product
    product = new_product(service)
    # When an editor deletes it
    service.delete(product.id, EDITOR)
    # Then neither its item nor its guard is left
    assert keys_for(local_system, product) == set()
    # And reading it says it is not found
    with pytest.raises(NotFound):
        repository.get(product.id)


def test_prices_come_back_as_exact_decimals(
    service: ProductService, repository: ProductRepository
) -> None:
    # Given a product priced at 0.10
    product = new_product(service, price="0.10")
    # When it is read back from the table
    stored = repository.get(product.id)
    # Then its price is the exact decimal 0.10
    assert stored.price == product.price
    assert str(stored.price) == "0.10"
    # And its creation time is timezone-aware and in the past
    assert stored.created_at.tzinfo is not None
    assert stored.created_at <= datetime.now(UTC)


def test_every_model_and_transaction_sends_through_one_botocore_client(
    local_system: Any,
) -> None:
    # Given every model the functions write to DynamoDB with
    # Each new client parses DynamoDB's service model again (~100 ms, ~12 MiB): one per
    # function, not one per model class.
    from catalog.categories.repository import CategoryItem
    from catalog.core import dynamo
    from catalog.products.items import ProductCopy, ProductItem, SkuGuard

    # Then all of them send through the one shared botocore client
    clients = {
        id(model._get_connection().connection.client)
        for model in (ProductItem, ProductCopy, SkuGuard, CategoryItem)
    }
    assert clients == {id(dynamo.connection().client)}
