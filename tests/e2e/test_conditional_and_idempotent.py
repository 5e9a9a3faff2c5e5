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
    # Given a product at version 1
    product = create(api)
    path = f"/v1/products/{product['id']}"
    # When an anonymous caller reads it
    first = anonymous.get(path)
    # Then the answer carries its version as ETag
    assert first.headers["ETag"] == '"1"'
    # When the caller reads it again, sending that ETag in If-None-Match
    cached = anonymous.get(path, headers={"If-None-Match": '"1"'})
    # Then the answer is 304, with no body and the same ETag
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["ETag"] == '"1"'
    # And a weak form of the ETag matches too
    assert anonymous.get(path, headers={"If-None-Match": 'W/"1"'}).status_code == 304
    # And a list of other ETags does not: 200
    assert anonymous.get(path, headers={"If-None-Match": '"7", "8"'}).status_code == 200


def test_public_reads_are_cacheable_and_signed_in_ones_never(api: Api, anonymous: Api) -> None:
    # Given a product
    product = create(api)
    path = f"/v1/products/{product['id']}"
    # Then anonymous reads of it and of the listing may be cached publicly
    assert anonymous.get(path).headers["Cache-Control"].startswith("public, max-age=")
    assert anonymous.get("/v1/products").headers["Cache-Control"].startswith("public, max-age=")
    # And the editor's signed-in read of it is never stored
    assert api.get(path).headers["Cache-Control"] == "no-store"
    # And neither is the editor's read of a draft
    draft = create(api, status="draft")
    assert api.get(f"/v1/products/{draft['id']}").headers["Cache-Control"] == "no-store"


def test_if_match_guards_changes(api: Api) -> None:
    # Given a product at version 1
    product = create(api)
    path = f"/v1/products/{product['id']}"
    # When the editor changes it under If-Match of version 1
    changed = api.patch(path, json={"stock": 7}, headers={"If-Match": '"1"'})
    # Then the change is applied, at version 2
    assert changed.status_code == 200
    assert changed.headers["ETag"] == '"2"'
    # When the editor changes it again under the old version, or under a weak tag of the new one
    # Then both changes are refused: 412
    assert_problem(
        api.patch(path, json={"stock": 8}, headers={"If-Match": '"1"'}), 412, "precondition-failed"
    )
    assert_problem(
        api.patch(path, json={"stock": 8}, headers={"If-Match": 'W/"2"'}),
        412,
        "precondition-failed",
    )
    # And an unquoted ETag is refused as malformed: 400
    assert_problem(
        api.patch(path, json={"stock": 8}, headers={"If-Match": "2"}), 400, "bad-request"
    )
    # And a delete under the old version is refused: 412
    assert_problem(api.delete(path, headers={"If-Match": '"1"'}), 412, "precondition-failed")
    # And the product keeps the first change
    assert api.get(path).json()["stock"] == 7
    # When the editor deletes it under the current version
    # Then it is deleted: 204
    assert api.delete(path, headers={"If-Match": '"2"'}).status_code == 204


def test_twenty_concurrent_patches_with_one_if_match_leave_one_winner(api: Api) -> None:
    # Given a product at version 1, out of stock
    product = create(api, stock=0)
    url = f"{api.base_url}/v1/products/{product['id']}"
    # And twenty changes sent under If-Match of version 1, released together
    headers = {**api.user.headers, "If-Match": '"1"'} if api.user else {}
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def patch(stock: int) -> None:
        barrier.wait()
        response = requests.patch(url, json={"stock": stock}, headers=headers, timeout=60)
        statuses.append(response.status_code)

    # When they all arrive at once
    threads = [threading.Thread(target=patch, args=(n,)) for n in range(1, 21)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one wins and nineteen are refused: 412
    assert sorted(statuses) == [200] + [412] * 19
    # And the product moved on by one version only
    assert api.get(f"/v1/products/{product['id']}").json()["version"] == 2


def idempotent_post(api: Api, key: str, body: dict[str, Any]) -> requests.Response:
    return api.post("/v1/products", json=body, headers={"Idempotency-Key": key})


def test_a_replayed_create_returns_the_first_response(api: Api) -> None:
    # Given a product payload
    body = product_payload()
    # When the editor creates it under an idempotency key
    first = idempotent_post(api, "order-create-1", body)
    # Then it is created, and the answer is not a replay
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    # When the same create is sent again with the same key
    again = idempotent_post(api, "order-create-1", body)
    # Then the first answer is replayed: same status, body, Location and ETag
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]


def test_a_key_reused_with_another_body_is_422(api: Api) -> None:
    # Given a create already made under an idempotency key
    idempotent_post(api, "order-create-2", product_payload())
    # When the key is used again to create another product
    # Then it is refused: 422, naming the Idempotency-Key header
    body = assert_problem(
        idempotent_post(api, "order-create-2", product_payload()), 422, "validation-error"
    )
    assert body["errors"][0]["parameter"] == "Idempotency-Key"


def test_keys_belong_to_their_user(api: Api, local_system: Any) -> None:
    # Given two editors
    other = api.as_user(new_user(local_system.url, "editor", tag="idem"))
    # When each creates a product under the same idempotency key
    mine = idempotent_post(api, "shared-key", product_payload())
    theirs = idempotent_post(other, "shared-key", product_payload())
    # Then both are created, as different products
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]


@pytest.mark.parametrize("key", ["has space", "x" * 256, "é"])
def test_a_malformed_key_is_400(api: Api, key: str) -> None:
    # When a create is sent with a malformed idempotency key
    response = api.post(
        "/v1/products",
        json=product_payload(),
        headers={"Idempotency-Key": key.encode().decode("latin-1")},
    )
    # Then it is refused: 400
    assert_problem(response, 400, "bad-request")


def test_parallel_retries_create_once(api: Api) -> None:
    # Given one product payload
    body = product_payload()
    # And eight retries of its create under one idempotency key, released together
    barrier = threading.Barrier(8)
    answers: list[requests.Response] = []
    headers = {**(api.user.headers if api.user else {}), "Idempotency-Key": "parallel-1"}

    def post() -> None:
        barrier.wait()
        answers.append(
            requests.post(api.base_url + "/v1/products", json=body, headers=headers, timeout=60)
        )

    # When they all arrive at once
    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then each is answered with the created product or a conflict
    assert {a.status_code for a in answers} <= {201, 409}
    # And exactly one created the product, and the other 201s replay it
    originals = [
        a for a in answers if a.status_code == 201 and "Idempotent-Replayed" not in a.headers
    ]
    assert len(originals) == 1
    assert all(a.json()["id"] == originals[0].json()["id"] for a in answers if a.status_code == 201)
    # And the others are conflict problems
    for conflict in (a for a in answers if a.status_code == 409):
        assert conflict.json()["type"] == "urn:catalog:problem:conflict"
    # And the product was created once
    # whatever the interleaving, the SKU exists once: a plain create with it is a duplicate
    assert_problem(api.post("/v1/products", json=body), 409, "duplicate-sku")
