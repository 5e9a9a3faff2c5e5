"""ETags, conditional reads and writes, caching headers, and idempotent creates over HTTP."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from tests.conftest import product_payload
from tests.e2e.conftest import Api
from tests.e2e.test_products_api import assert_problem, create
from tests.users import new_user


def test_reads_carry_an_etag_and_answer_304_when_it_matches(api: Api, anonymous: Api) -> None:
    product = create(api)
    path = f"/v1/products/{product['id']}"
    first = anonymous.get(path)
    assert first.headers["ETag"] == '"1"'
    cached = anonymous.get(path, headers={"If-None-Match": '"1"'})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["ETag"] == '"1"'
    assert anonymous.get(path, headers={"If-None-Match": 'W/"1"'}).status_code == 304
    assert anonymous.get(path, headers={"If-None-Match": '"7", "8"'}).status_code == 200


def test_public_reads_are_cacheable_and_signed_in_ones_never(api: Api, anonymous: Api) -> None:
    product = create(api)
    path = f"/v1/products/{product['id']}"
    assert anonymous.get(path).headers["Cache-Control"].startswith("public, max-age=")
    assert anonymous.get("/v1/products").headers["Cache-Control"].startswith("public, max-age=")
    assert api.get(path).headers["Cache-Control"] == "no-store"
    draft = create(api, status="draft")
    assert api.get(f"/v1/products/{draft['id']}").headers["Cache-Control"] == "no-store"


def test_if_match_guards_changes(api: Api) -> None:
    product = create(api)
    path = f"/v1/products/{product['id']}"
    changed = api.patch(path, json={"stock": 7}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200
    assert changed.headers["ETag"] == '"2"'
    assert_problem(
        api.patch(path, json={"stock": 8}, headers={"If-Match": '"1"'}), 412, "precondition-failed"
    )
    assert_problem(
        api.patch(path, json={"stock": 8}, headers={"If-Match": 'W/"2"'}),
        412,
        "precondition-failed",
    )
    assert_problem(
        api.patch(path, json={"stock": 8}, headers={"If-Match": "2"}), 400, "bad-request"
    )
    assert_problem(api.delete(path, headers={"If-Match": '"1"'}), 412, "precondition-failed")
    assert api.get(path).json()["stock"] == 7
    assert api.delete(path, headers={"If-Match": '"2"'}).status_code == 204


def test_twenty_concurrent_patches_with_one_if_match_leave_one_winner(api: Api) -> None:
    product = create(api, stock=0)
    url = f"{api.base_url}/v1/products/{product['id']}"
    headers = {**api.user.headers, "If-Match": '"1"'} if api.user else {}
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def patch(stock: int) -> None:
        barrier.wait()
        response = requests.patch(url, json={"stock": stock}, headers=headers, timeout=60)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=patch, args=(n,)) for n in range(1, 21)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [412] * 19
    assert api.get(f"/v1/products/{product['id']}").json()["version"] == 2


def idempotent_post(api: Api, key: str, body: dict[str, Any]) -> requests.Response:
    return api.post("/v1/products", json=body, headers={"Idempotency-Key": key})


def test_a_replayed_create_returns_the_first_response(api: Api) -> None:
    body = product_payload()
    first = idempotent_post(api, "order-create-1", body)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    again = idempotent_post(api, "order-create-1", body)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]


def test_a_key_reused_with_another_body_is_422(api: Api) -> None:
    idempotent_post(api, "order-create-2", product_payload())
    body = assert_problem(
        idempotent_post(api, "order-create-2", product_payload()), 422, "validation-error"
    )
    assert body["errors"][0]["parameter"] == "Idempotency-Key"


def test_keys_belong_to_their_user(api: Api, local_system: Any) -> None:
    other = api.as_user(new_user(local_system.url, "editor", tag="idem"))
    mine = idempotent_post(api, "shared-key", product_payload())
    theirs = idempotent_post(other, "shared-key", product_payload())
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]


@pytest.mark.parametrize("key", ["has space", "x" * 256, "é"])
def test_a_malformed_key_is_400(api: Api, key: str) -> None:
    response = api.post(
        "/v1/products",
        json=product_payload(),
        headers={"Idempotency-Key": key.encode().decode("latin-1")},
    )
    assert_problem(response, 400, "bad-request")


def test_parallel_retries_create_once(api: Api) -> None:
    body = product_payload()
    barrier = threading.Barrier(8)
    answers: list[requests.Response] = []
    headers = {**(api.user.headers if api.user else {}), "Idempotency-Key": "parallel-1"}

    def post() -> None:
        barrier.wait()
        answers.append(
            requests.post(api.base_url + "/v1/products", json=body, headers=headers, timeout=60)
        )

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {a.status_code for a in answers} <= {201, 409}
    originals = [
        a for a in answers if a.status_code == 201 and "Idempotent-Replayed" not in a.headers
    ]
    assert len(originals) == 1
    assert all(a.json()["id"] == originals[0].json()["id"] for a in answers if a.status_code == 201)
    for conflict in (a for a in answers if a.status_code == 409):
        assert conflict.json()["type"] == "urn:catalog:problem:conflict"
    # whatever the interleaving, the SKU exists once: a plain create with it is a duplicate
    assert_problem(api.post("/v1/products", json=body), 409, "duplicate-sku")
