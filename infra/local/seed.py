"""Demo products for `make run`, created through the API like any client would."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field

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


@dataclass
class SeedReport:
    """What seeding did: each demo item written, kept (already there), or left out."""

    products: list[dict[str, object]] = field(default_factory=list)  # created now
    kept: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{len(self.products)} demo products"]
        if self.kept:
            parts.append(f"kept what was already there ({', '.join(self.kept)})")
        if self.left_out:
            parts.append(f"left out {'; '.join(self.left_out)}")
        return ", ".join(parts)


class Refusal(Exception):
    """The API refused a seed item with a problem a client's data explains (409, 422)."""

    def __init__(self, status: int, problem: Mapping[str, object]) -> None:
        super().__init__(str(problem.get("detail", "")))
        self.status = status
        self.problem = problem


def _post(url: str, body: Mapping[str, object], token: str) -> dict[str, object]:
    request = urllib.request.Request(  # noqa: S310 - a loopback URL we started ourselves
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            created: dict[str, object] = json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code not in (409, 422):
            raise  # not about data: a fault, or our own token refused; make run stops
        raise Refusal(error.code, json.loads(error.read() or b"{}")) from None
    return created


def seed_categories(
    base_url: str, admin_token: str, report: SeedReport | None = None
) -> SeedReport:
    """The demo categories (as an admin); one a client already created is kept as it is."""
    report = report if report is not None else SeedReport()
    for category in DEMO_CATEGORIES:
        _seed_one(
            f"{base_url}/v1/categories",
            category,
            admin_token,
            f"category {category['slug']}",
            report,
        )
    return report


def seed(base_url: str, admin_token: str, editor_token: str) -> SeedReport:
    """Demo categories (as an admin), then demo products owned by the editor.

    Idempotent, and at peace with clients: the API serves while it runs, so a client may
    have created a demo category or SKU first (kept: 409), or removed what a demo item
    needs (left out, with the API's reason: 422). Anything else stops `make run`.
    """
    report = seed_categories(base_url, admin_token)
    for product in DEMO_PRODUCTS:
        created = _seed_one(
            f"{base_url}/v1/products", product, editor_token, f"product {product['sku']}", report
        )
        if created is not None:
            report.products.append(created)
    return report


def _seed_one(
    url: str, body: Mapping[str, object], token: str, name: str, report: SeedReport
) -> dict[str, object] | None:
    try:
        return _post(url, body, token)
    except Refusal as refusal:
        if refusal.status == 409:
            report.kept.append(name)
        else:
            report.left_out.append(f"{name}: {refusal.problem.get('detail', 'refused')}")
        return None
