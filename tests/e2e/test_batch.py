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
    existing = create(api)
    doomed = create(api)
    taken = create(api)
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
    statuses = [r["status"] for r in body["results"]]
    assert statuses == [201, 422, 200, 412, 204, 409, 422]
    assert body["applied"] == 3
    assert body["results"][1]["error"]["errors"][0]["pointer"] == "#/operations/1/product/price"
    assert body["results"][2]["product"]["stock"] == 9
    assert api.get(f"/v1/products/{doomed['id']}").status_code == 404


def test_an_atomic_batch_applies_everything(api: Api) -> None:
    existing = create(api, stock=1)
    body = batch(
        api,
        [
            {"op": "create", "product": product_payload()},
            {"op": "create", "product": product_payload()},
            {"op": "update", "id": existing["id"], "changes": {"stock": 2, "category": "lighting"}},
        ],
        atomic=True,
    )
    assert [r["status"] for r in body["results"]] == [201, 201, 200]
    assert body["applied"] == 3
    assert api.get(f"/v1/products/{existing['id']}").json()["category"] == "lighting"


def test_an_atomic_batch_with_one_bad_operation_applies_nothing(api: Api) -> None:
    existing = create(api, stock=1)
    before = count_products(api)
    unknown_category = f"none-{uuid.uuid4().hex[:6]}"
    cases = [
        {"op": "create", "product": product_payload(category=unknown_category)},  # fails at write
        {"op": "delete", "id": "01J0000000000000000000000A"},  # fails while preparing
    ]
    for bad in cases:
        body = batch(
            api,
            [
                {"op": "create", "product": product_payload()},
                {"op": "update", "id": existing["id"], "changes": {"stock": 5}},
                bad,
            ],
            atomic=True,
        )
        statuses = [r["status"] for r in body["results"]]
        assert statuses[:2] == [424, 424]
        assert statuses[2] in (404, 422)
        assert body["applied"] == 0
        assert body["results"][0]["error"]["type"] == "urn:catalog:problem:not-applied"
    assert count_products(api) == before
    assert api.get(f"/v1/products/{existing['id']}").json()["stock"] == 1


def test_an_atomic_batch_refuses_two_operations_on_one_product_or_sku(api: Api) -> None:
    existing = create(api)
    payload = product_payload()
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
    assert [r["status"] for r in body["results"]] == [424, 422, 424, 409]
    assert api.get(f"/v1/products/{existing['id']}").status_code == 200


def test_editors_batch_only_their_own_products(api: Api, local_system: Any) -> None:
    mine = create(api)
    other = api.as_user(new_user(local_system.url, "editor", tag="batcher"))
    body = batch(other, [{"op": "update", "id": mine["id"], "changes": {"stock": 3}}])
    assert body["results"][0]["status"] == 403


def test_batches_hold_one_to_a_hundred_operations(api: Api) -> None:
    for operations in ([], [{"op": "delete", "id": "x"}] * 101):
        response = api.post("/v1/products/batch", json={"operations": operations})
        assert response.status_code == 422


def test_an_atomic_batch_beyond_one_transaction_is_refused_whole(api: Api) -> None:
    operations = [
        {"op": "create", "product": product_payload()} for _ in range(50)
    ]  # 8 items each (product, guard, tag copy, 5 word copies), + 1 count
    before = count_products(api)
    response = api.post("/v1/products/batch", json={"atomic": True, "operations": operations})
    assert response.status_code == 422
    assert "at most 100 items" in response.json()["detail"]
    assert count_products(api) == before


def test_a_batch_replays_with_its_idempotency_key(api: Api) -> None:
    operations = [{"op": "create", "product": product_payload()}]
    headers = {"Idempotency-Key": f"batch-{uuid.uuid4().hex}"}
    body = {"operations": operations}
    first = api.post("/v1/products/batch", json=body, headers=headers)
    again = api.post("/v1/products/batch", json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def test_an_atomic_batch_filling_one_transaction_is_applied(api: Api) -> None:
    # Each product is 4 items (product, SKU guard, its two search words), + 1 count: 97.
    operations = [
        {
            "op": "create",
            "product": product_payload(name="Mug", tags=[], sku=f"F{uuid.uuid4().hex}"),
        }
        for _ in range(24)
    ]
    body = batch(api, operations, atomic=True)
    assert body["applied"] == 24
