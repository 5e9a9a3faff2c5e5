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
    # Given a category an admin created
    slug = new_category(admin)
    # Then an anonymous caller finds it in the list and reads its name
    assert slug in [c["slug"] for c in anonymous.get("/v1/categories").json()["items"]]
    assert category(anonymous, slug)["name"] == slug.title()
    # And an editor may not create a category: 403
    assert_problem(api.post("/v1/categories", json={"slug": "x-y", "name": "X"}), 403, "forbidden")
    # When the admin renames it
    renamed = admin.patch(f"/v1/categories/{slug}", json={"name": "Renamed"})
    # Then it has the new name, at version 2
    assert renamed.json()["name"] == "Renamed"
    assert renamed.json()["version"] == 2


def test_a_product_needs_an_existing_category_and_nothing_is_left_behind(api: Api) -> None:
    # Given the number of products in the catalog
    before = count_products(api)
    # And a product filed under a category that does not exist
    payload = product_payload(category=f"nowhere-{uuid.uuid4().hex[:6]}")
    # When an editor creates it
    # Then it is refused: 422, pointing at the category
    body = assert_problem(api.post("/v1/products", json=payload), 422, "validation-error")
    assert body["errors"][0]["pointer"] == "#/category"
    # And no product was created
    assert count_products(api) == before
    # And its SKU is still free: under an existing category the product is created
    assert (
        api.post("/v1/products", json={**payload, "category": "kitchen"}).status_code == 201
    )  # SKU free


def test_a_category_with_products_cannot_be_deleted_until_they_leave(
    admin: Api, api: Api, anonymous: Api
) -> None:
    # Given two categories, the first holding two products
    slug, other = new_category(admin), new_category(admin)
    first, second = create(api, category=slug), create(api, category=slug)
    # Then the first counts two products
    assert category(anonymous, slug)["product_count"] == 2
    # And while they are there an admin cannot delete it: 409
    assert_problem(admin.delete(f"/v1/categories/{slug}"), 409, "conflict")

    # When one of the products moves to the other category
    assert api.patch(f"/v1/products/{first['id']}", json={"category": other}).status_code == 200
    # Then each category counts one product
    assert (
        category(anonymous, slug)["product_count"],
        category(anonymous, other)["product_count"],
    ) == (1, 1)
    # When the other product is deleted
    assert api.delete(f"/v1/products/{second['id']}").status_code == 204
    # Then the first category counts none
    assert category(anonymous, slug)["product_count"] == 0
    # And the admin can now delete it
    assert admin.delete(f"/v1/categories/{slug}").status_code == 204
    # And it is gone: 404
    assert_problem(anonymous.get(f"/v1/categories/{slug}"), 404, "not-found")


def test_moving_a_product_to_an_unknown_category_changes_nothing(
    admin: Api, api: Api, anonymous: Api
) -> None:
    # Given a product in a category
    slug = new_category(admin)
    product = create(api, category=slug)
    # When an editor moves it to a category that does not exist
    # Then the move is refused: 422
    assert_problem(
        api.patch(f"/v1/products/{product['id']}", json={"category": "no-such-category"}),
        422,
        "validation-error",
    )
    # And the product stays where it was, and the category still counts it
    assert api.get(f"/v1/products/{product['id']}").json()["category"] == slug
    assert category(anonymous, slug)["product_count"] == 1


def test_the_tree_has_existing_parents_no_cycles_and_no_orphans(admin: Api, anonymous: Api) -> None:
    # Given a parent category with one child
    parent = new_category(admin)
    child = new_category(admin, parent=parent)
    # Then the parent counts one child
    assert category(anonymous, parent)["child_count"] == 1
    # When a category is created under a parent that does not exist
    missing = admin.post(
        "/v1/categories", json={"slug": "orphan-x", "name": "O", "parent": "nope-zz"}
    )
    # Then it is refused: 422, pointing at the parent
    assert assert_problem(missing, 422, "validation-error")["errors"][0]["pointer"] == "#/parent"
    # When the parent is moved under its own child, or under itself
    cycle = admin.patch(f"/v1/categories/{parent}", json={"parent": child})
    # Then both moves are refused: 422
    assert_problem(cycle, 422, "validation-error")
    assert_problem(
        admin.patch(f"/v1/categories/{parent}", json={"parent": parent}), 422, "validation-error"
    )
    # And the parent cannot be deleted while it has a child: 409
    assert_problem(admin.delete(f"/v1/categories/{parent}"), 409, "conflict")
    # When the child leaves the parent
    assert admin.patch(f"/v1/categories/{child}", json={"parent": None}).json()["parent"] is None
    # Then the parent counts no child
    assert category(anonymous, parent)["child_count"] == 0
    # And it can be deleted
    assert admin.delete(f"/v1/categories/{parent}").status_code == 204


def test_a_duplicate_slug_is_409(admin: Api) -> None:
    # Given a category
    slug = new_category(admin)
    # When an admin creates another with the same slug
    # Then it is refused as a conflict: 409
    assert_problem(
        admin.post("/v1/categories", json={"slug": slug, "name": "Again"}), 409, "conflict"
    )


def test_a_category_counts_drafts_only_for_admins(admin: Api, api: Api, anonymous: Api) -> None:
    # Given a category holding an active product and a draft
    slug = new_category(admin)
    create(api, category=slug)
    create(api, category=slug, status="draft")
    # When anyone but an admin reads it, alone or in the list
    listed = {c["slug"]: c for c in anonymous.get("/v1/categories").json()["items"]}
    # Then it counts the active product only, as anyone may list it
    assert category(anonymous, slug)["product_count"] == 1
    assert category(api, slug)["product_count"] == 1
    assert listed[slug]["product_count"] == 1
    # And an admin sees both
    assert category(admin, slug)["product_count"] == 2
    # When the draft is published, then everyone counts both
    drafts = admin.get("/v1/products", params={"category": slug, "status": "draft"}).json()
    draft_id = drafts["items"][0]["id"]
    assert api.patch(f"/v1/products/{draft_id}", json={"status": "active"}).status_code == 200
    assert category(anonymous, slug)["product_count"] == 2
