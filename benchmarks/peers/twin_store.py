"""What both framework twins share: the products table through one boto3 client, and a fake.

The twins serve `GET /v1/products/{id}` and `POST /v1/products` on the same table, item
layout and validation rules (the very pydantic models of `catalog.products.schemas`) as the
products function: a create writes the product, its SKU guard and the category's count in one
transaction. No authorization or problem+json beyond what each framework gives for free.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any, Protocol

from catalog.products.schemas import Product, ProductCreate


class NotFound(Exception):
    """No product has this id."""


class Conflict(Exception):
    """The SKU is taken or the category does not exist."""


class Store(Protocol):
    def get(self, product_id: str) -> Product: ...
    def create(self, product: Product) -> None: ...


def _attr(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, list):
        return {"L": [_attr(v) for v in value]}
    return {"N": str(value)}  # Decimal


def _item(product: Product) -> dict[str, dict[str, Any]]:
    data = product.model_dump(mode="json")
    data["price"] = product.price
    item = {name: _attr(value) for name, value in data.items()}
    item.update(
        pk={"S": f"PRODUCT#{product.id}"},
        sk={"S": "PRODUCT"},
        kind={"S": "product"},
        gsi1pk={"S": f"STATUS#{product.status}"},
        gsi1sk={"S": product.id},
        gsi2pk={"S": f"CAT#{product.category}#{product.status}"},
        gsi2sk={"S": product.id},
    )
    return item


def _value(attr: dict[str, Any]) -> Any:
    kind, value = next(iter(attr.items()))
    if kind == "L":
        return [_value(v) for v in value]
    return value if kind != "N" or "." in value else int(value)


class DynamoStore:
    """The products table through one low-level client, created on first use."""

    def __init__(self) -> None:
        self._client: Any = None
        self._table = os.environ.get("TABLE_PRODUCTS", "products")

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("dynamodb")
        return self._client

    def get(self, product_id: str) -> Product:
        found = self.client.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"PRODUCT#{product_id}"}, "sk": {"S": "PRODUCT"}},
        ).get("Item")
        if found is None:
            raise NotFound(product_id)
        fields = set(Product.model_fields)
        return Product.model_validate({k: _value(v) for k, v in found.items() if k in fields})

    def create(self, product: Product) -> None:
        table = self._table
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table,
                            "Item": _item(product),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": table,
                            "Item": {
                                "pk": {"S": f"SKU#{product.sku.upper()}"},
                                "sk": {"S": "SKU"},
                                "kind": {"S": "sku"},
                                "product_id": {"S": product.id},
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": table,
                            "Key": {
                                "pk": {"S": f"CATEGORY#{product.category}"},
                                "sk": {"S": "CATEGORY"},
                            },
                            "UpdateExpression": "ADD product_count :one",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                ]
            )
        except self.client.exceptions.TransactionCanceledException as error:
            raise Conflict(str(error)) from None


class FakeStore:
    """In memory, like tests/fakes.py for the products function."""

    def __init__(self) -> None:
        self.products: dict[str, Product] = {}
        self.skus: set[str] = set()

    def get(self, product_id: str) -> Product:
        try:
            return self.products[product_id]
        except KeyError:
            raise NotFound(product_id) from None

    def create(self, product: Product) -> None:
        if product.sku.upper() in self.skus:
            raise Conflict(product.sku)
        self.skus.add(product.sku.upper())
        self.products[product.id] = product


def new_product(data: ProductCreate, owner: str) -> Product:
    from ulid import ULID  # lazily, as the products service does (~30 ms on import)

    now = datetime.now(UTC)
    return Product(
        id=str(ULID.from_datetime(now)),
        owner=owner,
        created_at=now,
        updated_at=now,
        version=1,
        **data.model_dump(),
    )


def owner_of(event: dict[str, Any]) -> str | None:
    """The caller's sub, from the Cognito authorizer's claims (as API Gateway passes them)."""
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    sub = claims.get("sub")
    return sub if isinstance(sub, str) and sub else None


store: Store = DynamoStore()
