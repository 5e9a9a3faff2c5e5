"""Categories over HTTP: the tree, and the rule that products file under existing ones."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import product_payload
from tests.e2e.conftest import Api
from tests.e2e.test_products_api import assert_problem, count_products, create
from tests.users import demo_user


@pytest.fixture(scope="module")
def admin(api: Api, local_system: Any) -> Api:
    return api.as_user(demo_user(local_system.url, "admin"))


def new_category(admin: Api, parent: str | None = None) -> str:
    slug = f"cat-{uuid.uuid4().hex[:10]}"
    body: dict[str, Any] = {"slug": slug, "name": slug.title()}
    if parent:
        body["parent"] = parent
    response = admin.post("/v1/categories", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/v1/categories/{slug}"
    return slug


def category(anonymous: Api, slug: str) -> dict[str, Any]:
    response = anonymous.get(f"/v1/categories/{slug}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_anyone_reads_categories_and_only_admins_write(
    admin: Api, api: Api, anonymous: Api
) -> None:
    slug = new_category(admin)
    assert slug in [c["slug"] for c in anonymous.get("/v1/categories").json()["items"]]
    assert category(anonymous, slug)["name"] == slug.title()
    assert_problem(api.post("/v1/categories", json={"slug": "x-y", "name": "X"}), 403, "forbidden")
    renamed = admin.patch(f"/v1/categories/{slug}", json={"name": "Renamed"})
    assert renamed.json()["name"] == "Renamed"
    assert renamed.json()["version"] == 2


def test_a_product_needs_an_existing_category_and_nothing_is_left_behind(api: Api) -> None:
    before = count_products(api)
    payload = product_payload(category=f"nowhere-{uuid.uuid4().hex[:6]}")
    body = assert_problem(api.post("/v1/products", json=payload), 422, "validation-error")
    assert body["errors"][0]["pointer"] == "#/category"
    assert count_products(api) == before
    assert (
        api.post("/v1/products", json={**payload, "category": "kitchen"}).status_code == 201
    )  # SKU free


def test_a_category_with_products_cannot_be_deleted_until_they_leave(
    admin: Api, api: Api, anonymous: Api
) -> None:
    slug, other = new_category(admin), new_category(admin)
    first, second = create(api, category=slug), create(api, category=slug)
    assert category(anonymous, slug)["product_count"] == 2
    assert_problem(admin.delete(f"/v1/categories/{slug}"), 409, "conflict")

    assert api.patch(f"/v1/products/{first['id']}", json={"category": other}).status_code == 200
    assert (
        category(anonymous, slug)["product_count"],
        category(anonymous, other)["product_count"],
    ) == (1, 1)
    assert api.delete(f"/v1/products/{second['id']}").status_code == 204
    assert category(anonymous, slug)["product_count"] == 0
    assert admin.delete(f"/v1/categories/{slug}").status_code == 204
    assert_problem(anonymous.get(f"/v1/categories/{slug}"), 404, "not-found")


def test_moving_a_product_to_an_unknown_category_changes_nothing(
    admin: Api, api: Api, anonymous: Api
) -> None:
    slug = new_category(admin)
    product = create(api, category=slug)
    assert_problem(
        api.patch(f"/v1/products/{product['id']}", json={"category": "no-such-category"}),
        422,
        "validation-error",
    )
    assert api.get(f"/v1/products/{product['id']}").json()["category"] == slug
    assert category(anonymous, slug)["product_count"] == 1


def test_the_tree_has_existing_parents_no_cycles_and_no_orphans(admin: Api, anonymous: Api) -> None:
    parent = new_category(admin)
    child = new_category(admin, parent=parent)
    assert category(anonymous, parent)["child_count"] == 1
    missing = admin.post(
        "/v1/categories", json={"slug": "orphan-x", "name": "O", "parent": "nope-zz"}
    )
    assert assert_problem(missing, 422, "validation-error")["errors"][0]["pointer"] == "#/parent"
    cycle = admin.patch(f"/v1/categories/{parent}", json={"parent": child})
    assert_problem(cycle, 422, "validation-error")
    assert_problem(
        admin.patch(f"/v1/categories/{parent}", json={"parent": parent}), 422, "validation-error"
    )
    assert_problem(admin.delete(f"/v1/categories/{parent}"), 409, "conflict")
    assert admin.patch(f"/v1/categories/{child}", json={"parent": None}).json()["parent"] is None
    assert category(anonymous, parent)["child_count"] == 0
    assert admin.delete(f"/v1/categories/{parent}").status_code == 204


def test_a_duplicate_slug_is_409(admin: Api) -> None:
    slug = new_category(admin)
    assert_problem(
        admin.post("/v1/categories", json={"slug": slug, "name": "Again"}), 409, "conflict"
    )
