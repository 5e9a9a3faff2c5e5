"""Demo products for `make run`, created through the API like any client would."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping

DEMO_CATEGORIES = [
    {"slug": "home", "name": "Home"},
    {"slug": "kitchen", "name": "Kitchen", "parent": "home"},
    {"slug": "lighting", "name": "Lighting", "parent": "home"},
    {"slug": "apparel", "name": "Apparel"},
]

DEMO_PRODUCTS = [
    {
        "sku": "MUG-001",
        "name": "Enamel camping mug",
        "description": "Steel mug with a speckled enamel finish.\nHolds 350 ml.",
        "price": "14.90",
        "currency": "EUR",
        "category": "kitchen",
        "tags": ["outdoor", "enamel"],
        "stock": 120,
        "status": "active",
    },
    {
        "sku": "LAMP-042",
        "name": "Desk lamp, brass",
        "price": "89.00",
        "currency": "EUR",
        "category": "lighting",
        "tags": ["brass", "desk"],
        "stock": 8,
        "status": "active",
    },
    {
        "sku": "TEE-ORG-M",
        "name": "Organic cotton T-shirt (M)",
        "price": "24.50",
        "currency": "EUR",
        "category": "apparel",
        "tags": ["organic"],
        "stock": 0,
        "status": "draft",
    },
]


def _post(url: str, body: Mapping[str, object], token: str) -> dict[str, object]:
    request = urllib.request.Request(  # noqa: S310 - a loopback URL we started ourselves
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        created: dict[str, object] = json.loads(response.read())
    return created


def seed_categories(base_url: str, admin_token: str) -> None:
    for category in DEMO_CATEGORIES:
        _post(f"{base_url}/v1/categories", category, admin_token)


def seed(base_url: str, admin_token: str, editor_token: str) -> list[dict[str, object]]:
    """Demo categories (as an admin), then demo products owned by the editor."""
    seed_categories(base_url, admin_token)
    return [_post(f"{base_url}/v1/products", p, editor_token) for p in DEMO_PRODUCTS]
