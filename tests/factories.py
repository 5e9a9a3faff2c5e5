"""Test data factories: valid request bodies, each field overridable.

The tests build their data here, and so do the OpenAPI document's examples
(infra/openapi_examples.py): a documented example is a body the tests send.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

_sku_numbers = itertools.count(1)
PASSWORD = "Test-Passw0rd-Strong!"  # meets the user pool's policy


def product_payload(**overrides: Any) -> dict[str, Any]:
    """A valid create body with a unique SKU; override any field."""
    payload: dict[str, Any] = {
        "sku": f"TEST-{os.getpid()}-{next(_sku_numbers)}",
        "name": "Enamel mug",
        "description": "Holds 350 ml.",
        "price": "14.90",
        "currency": "EUR",
        "category": "kitchen",
        "tags": ["enamel"],
        "stock": 3,
        "status": "active",
    }
    payload.update(overrides)
    return payload


def category_payload(**overrides: Any) -> dict[str, Any]:
    """A valid category create body (its parent is a seeded category)."""
    return {"slug": "tea-sets", "name": "Tea sets", "parent": "kitchen", **overrides}


def webhook_payload(**overrides: Any) -> dict[str, Any]:
    """A valid webhook registration."""
    return {
        "url": "https://hooks.example.com/catalog",
        "events": ["product.created", "product.price_changed"],
        "description": "Storefront cache",
        **overrides,
    }


def registration_payload(**overrides: Any) -> dict[str, Any]:
    """A valid sign-up body."""
    return {"email": "ada@example.com", "password": PASSWORD, "name": "Ada Lovelace", **overrides}


def import_request_payload(**overrides: Any) -> dict[str, Any]:
    """A valid request for an import: a CSV file of 1,834 bytes, new products only."""
    return {"format": "csv", "mode": "create", "content_length": 1834, **overrides}


def image_upload_payload(**overrides: Any) -> dict[str, Any]:
    """A valid request for an image upload form."""
    return {"content_type": "image/png", "content_length": 48213, **overrides}
