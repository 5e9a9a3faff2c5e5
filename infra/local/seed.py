"""Demo products for `make run`, created through the API like any client would."""

from __future__ import annotations

import json
import urllib.request

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


def seed(base_url: str, token: str) -> list[dict[str, object]]:
    """Create the demo products as the signed-in user of `token` (their owner)."""
    created = []
    for product in DEMO_PRODUCTS:
        request = urllib.request.Request(  # noqa: S310 - a loopback URL we started ourselves
            f"{base_url}/v1/products",
            data=json.dumps(product).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            created.append(json.loads(response.read()))
    return created
