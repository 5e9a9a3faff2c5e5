"""POST /v1/products/batch over HTTP: per-operation results, and all-or-nothing batches."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import product_payload
from tests.e2e.conftest import Api
from tests.e2e.test_products_api import count_products, create
from tests.users import new_user


def batch(api: Api, operations: list[dict[str, Any]], atomic: bool = False) -> dict[str, Any]:
    response = api.post("/v1/products/batch", json={"atomic": atomic, "operations": operations})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert [r["index"] for r in body["results"]] == list(range(len(operations)))
    return body


def test_each_operation_gets_its_own_result(api: Api) -> None:
    # Given three of the editor's products: one to change, one to delete, one whose SKU is taken
    existing = create(api)
    doomed = create(api)
    taken = create(api)
    # When a batch that is not atomic mixes good and bad operations
    body = batch(
        api,
        [
            {"op": "create", "product": product_payload()},
            {"op": "create", "product": product_payload(price="1.001")},
            {"op": "update", "id": existing["id"], "changes": {"stock": 9}, "if_match": 1},
            {"op": "update", "id": existing["id"], "changes": {"stock": 10}, "if_match": 1},
            {"op": "delete", "id": doomed["id"]},
            {"op": "create", "product": product_payload(sku=taken["sku"])},
            {"op": "explode"},
        ],
    )
    # Then each operation gets its own status
    statuses = [r["status"] for r in body["results"]]
    assert statuses == [201, 422, 200, 412, 204, 409, 422]
    # And only the three good operations are applied
    assert body["applied"] == 3
    # And the bad price is pointed at within the batch
    assert body["results"][1]["error"]["errors"][0]["pointer"] == "#/operations/1/product/price"
    # And the update that came first changed the stock
    assert body["results"][2]["product"]["stock"] == 9
    # And the deleted product is gone
    assert api.get(f"/v1/products/{doomed['id']}").status_code == 404


def test_an_atomic_batch_applies_everything(api: Api) -> None:
    # Given a product with stock 1
    existing = create(api, stock=1)
    # When an atomic batch creates two products and changes that one
    body = batch(
        api,
        [
            {"op": "create", "product": product_payload()},
            {"op": "create", "product": product_payload()},
            {"op": "update", "id": existing["id"], "changes": {"stock": 2, "category": "lighting"}},
        ],
        atomic=True,
    )
    # Then every operation succeeds and all three are applied
    assert [r["status"] for r in body["results"]] == [201, 201, 200]
    assert body["applied"] == 3
    # And the change shows on the product
    assert api.get(f"/v1/products/{existing['id']}").json()["category"] == "lighting"


def test_an_atomic_batch_with_one_bad_operation_applies_nothing(api: Api) -> None:
    # Given a product with stock 1
    existing = create(api, stock=1)
    # And the number of products in the catalog
    before = count_products(api)
    # And two bad operations: one that fails at write, one that fails while preparing
    unknown_category = f"none-{uuid.uuid4().hex[:6]}"
    cases = [
        {"op": "create", "product": product_payload(category=unknown_category)},  # fails at write
        {"op": "delete", "id": "01J0000000000000000000000A"},  # fails while preparing
    ]
    for bad in cases:
        # When an atomic batch of two good operations also carries one bad one
        body = batch(
            api,
            [
                {"op": "create", "product": product_payload()},
                {"op": "update", "id": existing["id"], "changes": {"stock": 5}},
                bad,
            ],
            atomic=True,
        )
        # Then the good operations are reported as not applied: 424
        statuses = [r["status"] for r in body["results"]]
        assert statuses[:2] == [424, 424]
        # And the bad one says why it failed
        assert statuses[2] in (404, 422)
        # And nothing was applied
        assert body["applied"] == 0
        assert body["results"][0]["error"]["type"] == "urn:catalog:problem:not-applied"
    # And the catalog gained no product and the product's stock is unchanged
    assert count_products(api) == before
    assert api.get(f"/v1/products/{existing['id']}").json()["stock"] == 1


def test_an_atomic_batch_refuses_two_operations_on_one_product_or_sku(api: Api) -> None:
    # Given a product, and a payload for a new one
    existing = create(api)
    payload = product_payload()
    # When an atomic batch both updates and deletes the product, and creates one SKU twice
    body = batch(
        api,
        [
            {"op": "update", "id": existing["id"], "changes": {"stock": 1}},
            {"op": "delete", "id": existing["id"]},
            {"op": "create", "product": payload},
            {"op": "create", "product": {**payload, "sku": payload["sku"].lower()}},
        ],
        atomic=True,
    )
    # Then each second operation on a product or SKU is refused, and the others not applied
    assert [r["status"] for r in body["results"]] == [424, 422, 424, 409]
    # And the product is still there
    assert api.get(f"/v1/products/{existing['id']}").status_code == 200


def test_editors_batch_only_their_own_products(api: Api, local_system: Any) -> None:
    # Given a product of the demo editor
    mine = create(api)
    # And another editor
    other = api.as_user(new_user(local_system.url, "editor", tag="batcher"))
    # When the other editor batches a change to it
    body = batch(other, [{"op": "update", "id": mine["id"], "changes": {"stock": 3}}])
    # Then that operation is forbidden: 403
    assert body["results"][0]["status"] == 403


def test_batches_hold_one_to_a_hundred_operations(api: Api) -> None:
    # When a batch of no operations, or of 101, is sent
    for operations in ([], [{"op": "delete", "id": "x"}] * 101):
        response = api.post("/v1/products/batch", json={"operations": operations})
        # Then it is refused as invalid: 422
        assert response.status_code == 422


def test_an_atomic_batch_beyond_one_transaction_is_refused_whole(api: Api) -> None:
    # Given 50 product creations, more items than one transaction can hold
    operations = [
        {"op": "create", "product": product_payload()} for _ in range(50)
    ]  # 11 items each (product, guard, tag copy, 8 word copies of name, SKU, description), + 1
    # And the number of products in the catalog
    before = count_products(api)
    # When they are sent as one atomic batch
    response = api.post("/v1/products/batch", json={"atomic": True, "operations": operations})
    # Then the whole batch is refused: 422, naming the limit
    assert response.status_code == 422
    assert "at most 100 items" in response.json()["detail"]
    # And no product was created
    assert count_products(api) == before


def test_a_batch_replays_with_its_idempotency_key(api: Api) -> None:
    # Given a batch creating one product, under an idempotency key
    operations = [{"op": "create", "product": product_payload()}]
    headers = {"Idempotency-Key": f"batch-{uuid.uuid4().hex}"}
    body = {"operations": operations}
    # When it is sent twice with that key
    first = api.post("/v1/products/batch", json=body, headers=headers)
    again = api.post("/v1/products/batch", json=body, headers=headers)
    # Then the second answer is a replay of the first
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def test_an_atomic_batch_filling_one_transaction_is_applied(api: Api) -> None:
    # Given 24 product creations that just fit in one transaction
    # Each product is 4 items (product, SKU guard, its two search words: no description,
    # whose words would be searched too), + 1 count: 97.
    operations = [
        {
            "op": "create",
            "product": product_payload(
                name="Mug", description="", tags=[], sku=f"F{uuid.uuid4().hex}"
            ),
        }
        for _ in range(24)
    ]
    # When they are sent as one atomic batch
    body = batch(api, operations, atomic=True)
    # Then all 24 are applied
    assert body["applied"] == 24
