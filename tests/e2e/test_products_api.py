"""The products API over real HTTP: local gateway -> products function -> moto DynamoDB."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.conftest import product_payload
from tests.e2e.conftest import Api
from tests.users import demo_user

PROBLEM = "application/problem+json"


def assert_problem(response: requests.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:catalog:problem:{slug}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


def create(api: Api, **overrides: Any) -> dict[str, Any]:
    response = api.post("/v1/products", json=product_payload(**overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_answers_201_with_location_and_the_stored_product(api: Api) -> None:
    # Given a product priced 19.9
    payload = product_payload(price="19.9")
    # When the editor creates it
    response = api.post("/v1/products", json=payload)
    # Then it is created: 201, at its Location
    assert response.status_code == 201
    product = response.json()
    assert response.headers["Location"] == f"/v1/products/{product['id']}"
    # And it is stored with a two-decimal price, at version 1, created at a UTC time
    assert product["price"] == "19.90"
    assert product["version"] == 1
    assert product["created_at"].endswith("Z")
    # And reading its Location gives the same product
    fetched = api.get(response.headers["Location"]).json()
    assert fetched == product


def test_patch_changes_some_fields_and_bumps_the_version(api: Api) -> None:
    # Given a product with stock 1
    product = create(api, stock=1)
    # When the editor changes its stock and price
    response = api.patch(f"/v1/products/{product['id']}", json={"stock": 5, "price": 2})
    # Then those two fields change and the rest stays
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["stock"], updated["price"], updated["name"]) == (5, "2.00", product["name"])
    # And the version moves to 2
    assert updated["version"] == 2


def test_delete_answers_204_then_the_product_is_gone_and_its_sku_free(api: Api) -> None:
    # Given a product
    product = create(api)
    # When the editor deletes it
    assert api.delete(f"/v1/products/{product['id']}").status_code == 204
    # Then reading it is not found: 404
    assert_problem(api.get(f"/v1/products/{product['id']}"), 404, "not-found")
    # And deleting it again is not found either
    assert_problem(api.delete(f"/v1/products/{product['id']}"), 404, "not-found")
    # And its SKU is free for a new product, in any case
    create(api, sku=product["sku"].lower())  # the SKU was released


def test_a_duplicate_sku_in_any_case_is_409(api: Api) -> None:
    # Given a product
    product = create(api)
    # When another is created with its SKU in lower case
    response = api.post("/v1/products", json=product_payload(sku=product["sku"].lower()))
    # Then it is refused: 409, duplicate SKU
    assert_problem(response, 409, "duplicate-sku")


def test_changing_the_sku_moves_its_guard(api: Api) -> None:
    # Given two products
    product = create(api)
    other = create(api)
    new_sku = product["sku"] + "-NEW"
    # When the first takes the second's SKU
    # Then it is refused: 409, duplicate SKU
    assert_problem(
        api.patch(f"/v1/products/{product['id']}", json={"sku": other["sku"]}), 409, "duplicate-sku"
    )
    # When the first takes a new SKU
    assert api.patch(f"/v1/products/{product['id']}", json={"sku": new_sku}).status_code == 200
    # Then its old SKU is free again
    create(api, sku=product["sku"])  # the old SKU is free again
    # And its new one is taken
    assert_problem(
        api.post("/v1/products", json=product_payload(sku=new_sku)), 409, "duplicate-sku"
    )


def test_two_concurrent_creates_with_one_sku_give_one_201_and_one_409(api: Api) -> None:
    # Given one product payload
    payload = product_payload()
    # And two creates of it, released together
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def attempt() -> None:
        barrier.wait()
        statuses.append(
            requests.post(
                api.base_url + "/v1/products",
                json=payload,
                headers={"Authorization": f"Bearer {api.user.token}"} if api.user else {},
                timeout=30,
            ).status_code
        )

    # When both arrive at once
    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then one is created and the other refused: 409
    assert sorted(statuses) == [201, 409]


def test_listing_pages_through_everything_newest_first(api: Api) -> None:
    # Given five new products of the editor
    mine = [create(api)["id"] for _ in range(5)]
    # When a client pages through the listing, two at a time for the first five pages (the
    # newest ten, the five new ones among them), then a hundred at a time: the shared
    # system holds whatever the other tests made, and a cursor is bound to the filters and
    # the order, not to the page size
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        limit = 2 if pages < 5 else 100
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = api.get("/v1/products", params=params)
        # Then each page is answered, with at most its limit of products
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # And every product came once, newest first, the five new ones among them
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen, reverse=True)
    assert set(mine) <= set(seen)


def test_default_page_size_is_20(api: Api) -> None:
    # Given at least 21 products in the listing
    for _ in range(21 - len(api.get("/v1/products", params={"limit": 100}).json()["items"])):
        create(api)
    # When a client lists without a limit
    page = api.get("/v1/products").json()
    # Then one page of 20 comes back, with a cursor to the next
    assert len(page["items"]) == 20
    assert page["next_cursor"] is not None


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1e3", "99999999999999999999"])
def test_out_of_range_limits_are_422(api: Api, limit: str) -> None:
    # When the listing is asked for with an out-of-range limit
    # Then it is refused: 422, naming the limit
    body = assert_problem(api.get("/v1/products", params={"limit": limit}), 422, "validation-error")
    assert body["errors"][0]["parameter"] == "limit"


def test_a_tampered_cursor_is_400(api: Api) -> None:
    # Given at least three products
    for _ in range(3):
        create(api)
    # And a cursor to the listing's second page
    cursor = api.get("/v1/products", params={"limit": 1}).json()["next_cursor"]
    # When the cursor is tampered with, or is garbage
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    # Then it is refused: 400, invalid cursor
    assert_problem(api.get("/v1/products", params={"cursor": tampered}), 400, "invalid-cursor")
    assert_problem(api.get("/v1/products", params={"cursor": "garbage"}), 400, "invalid-cursor")


def count_products(api: Api) -> int:
    total, cursor = 0, None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/products", params=params).json()
        total += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return total


BAD_CREATES = [
    pytest.param('{"sku": "A"', "application/json", 400, "malformed-json", id="invalid-json"),
    pytest.param('{"a": NaN}', "application/json", 400, "malformed-json", id="nan"),
    pytest.param('{"sku": 1, "sku": 2}', "application/json", 400, "malformed-json", id="dup-key"),
    pytest.param("[]", "application/json", 422, "validation-error", id="array-body"),
    pytest.param('{"sku": "X-1"}', "text/plain", 415, "unsupported-media-type", id="text"),
    pytest.param(
        "sku=X", "application/x-www-form-urlencoded", 415, "unsupported-media-type", id="form"
    ),
]


@pytest.mark.parametrize(("body", "content_type", "status", "slug"), BAD_CREATES)
def test_malformed_creates_get_a_problem_and_change_nothing(
    api: Api, body: str, content_type: str, status: int, slug: str
) -> None:
    # Given the number of products in the catalog
    before = count_products(api)
    # When a create is sent with a malformed body or an unsupported content type
    response = api.post("/v1/products", data=body, headers={"Content-Type": content_type})
    # Then it is refused with a problem saying which
    assert_problem(response, status, slug)
    # And no product was created
    assert count_products(api) == before


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        ({"price": "-1"}, "#/price"),
        ({"price": 10.999}, "#/price"),
        ({"price": "1000000.01"}, "#/price"),
        ({"stock": "many"}, "#/stock"),
        ({"name": "x" * 201}, "#/name"),
        ({"description": "x" * 5001}, "#/description"),
        ({"tags": ["ok"] * 21}, "#/tags"),
        ({"currency": "ABC"}, "#/currency"),
        ({"colour": "red"}, "#/colour"),
    ],
)
def test_invalid_fields_are_422_with_a_pointer_and_change_nothing(
    api: Api, overrides: dict[str, Any], pointer: str
) -> None:
    # Given the number of products in the catalog
    before = count_products(api)
    # When a product with one invalid field is created
    # Then it is refused: 422, pointing at that field
    body = assert_problem(
        api.post("/v1/products", json=product_payload(**overrides)), 422, "validation-error"
    )
    assert pointer in [error.get("pointer") for error in body["errors"]]
    # And no product was created
    assert count_products(api) == before


def test_a_body_over_one_mebibyte_is_413(api: Api) -> None:
    # Given a body over one mebibyte
    huge = '{"description": "' + "x" * (1024 * 1024) + '"}'
    # When it is posted as a create
    response = api.post("/v1/products", data=huge, headers={"Content-Type": "application/json"})
    # Then it is refused: 413
    assert_problem(response, 413, "payload-too-large")


def test_a_wrong_method_is_405_with_allow(api: Api) -> None:
    # When the products collection is PUT
    response = api.request("PUT", "/v1/products", json={})
    # Then it is refused: 405, listing the methods allowed
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["Allow"] == "GET, POST, OPTIONS"


def test_an_unknown_path_is_404_problem(api: Api) -> None:
    # When an unknown path is read
    # Then the answer is a not-found problem
    assert_problem(api.get("/v1/nothing-here"), 404, "not-found")


@pytest.mark.parametrize("product_id", ["abc", "01J0000000000000000000000!", "x" * 300])
def test_an_invalid_id_is_404(api: Api, product_id: str) -> None:
    # When a product is read by an id that cannot exist
    # Then it is not found: 404
    assert_problem(api.get(f"/v1/products/{product_id}"), 404, "not-found")


def test_bad_patches_change_nothing(api: Api) -> None:
    # Given a product
    product = create(api)
    path = f"/v1/products/{product['id']}"
    # When the editor sends an empty change, removes its name, or gives a price three decimals
    # Then each change is refused: 422
    assert_problem(api.patch(path, json={}), 422, "validation-error")
    assert_problem(api.patch(path, json={"name": None}), 422, "validation-error")
    assert_problem(api.patch(path, json={"price": "1.001"}), 422, "validation-error")
    # And the product is unchanged
    assert api.get(path).json() == product


def test_responses_carry_security_headers_and_cors(api: Api) -> None:
    # When a page on another origin lists products
    response = api.get("/v1/products", headers={"Origin": "https://shop.example.com"})
    # Then the answer carries the security headers and allows any origin
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    # When a request fails
    error = api.get("/v1/products/abc", headers={"Authorization": "Bearer x"})
    # Then the error is never cached and carries the security headers too
    assert error.headers["Cache-Control"] == "no-store"
    assert error.headers["X-Content-Type-Options"] == "nosniff"


def test_cors_preflight_lists_the_methods_of_the_path(api: Api) -> None:
    # When a browser's preflight asks to PATCH a product
    response = api.request(
        "OPTIONS",
        "/v1/products/01J0000000000000000000000A",
        headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "PATCH"},
    )
    # Then it is answered with the methods of that path, for any origin
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Methods"] == "DELETE, GET, PATCH, OPTIONS"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_health_reports_dynamodb(api: Api) -> None:
    # When the health check is read
    response = api.get("/v1/health")
    # Then it reports DynamoDB as ok
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"dynamodb": "ok"}}


def test_openapi_document_describes_the_products_routes(api: Api) -> None:
    # When the OpenAPI document is read
    document = api.get("/v1/openapi.json").json()
    # Then it is OpenAPI 3 and describes the products routes
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]["/v1/products/{id}"]) == {"get", "patch", "delete"}
    assert set(document["paths"]["/v1/products"]) == {"get", "post"}


def test_listing_filters_by_category_and_orders_by_creation(api: Api, anonymous: Api) -> None:
    # Given three new products in a fresh category (a shared one holds other tests' products),
    # and one elsewhere
    category = f"order-{uuid.uuid4().hex[:6]}"
    admin = api.as_user(demo_user(anonymous.base_url, "admin"))
    assert admin.post("/v1/categories", json={"slug": category, "name": "O"}).status_code == 201
    firsts = [create(api, category=category)["id"] for _ in range(3)]
    create(api, category="lighting")
    # When an anonymous caller lists the category, oldest first
    oldest_first = anonymous.get(
        "/v1/products", params={"category": category, "sort": "created_at", "limit": 100}
    ).json()["items"]
    # Then exactly the three come back, oldest first
    assert all(p["category"] == category for p in oldest_first)
    assert [p["id"] for p in oldest_first] == firsts


def test_a_cursor_does_not_continue_another_listing(api: Api, anonymous: Api) -> None:
    # Given at least two lighting products
    for _ in range(2):
        create(api, category="lighting")
    # And a cursor to the lighting listing's second page
    cursor = anonymous.get("/v1/products", params={"category": "lighting", "limit": 1}).json()[
        "next_cursor"
    ]
    # When the cursor is used for another category, another order, or no filter
    for other in ({"category": "kitchen"}, {"category": "lighting", "sort": "created_at"}, {}):
        response = anonymous.get("/v1/products", params={**other, "limit": 1, "cursor": cursor})
        # Then it is refused: 400, invalid cursor
        assert_problem(response, 400, "invalid-cursor")


def test_only_admins_list_drafts(api: Api, anonymous: Api, local_system: Any) -> None:
    from tests.users import demo_user

    # Given a draft
    draft = create(api, status="draft")
    # When an anonymous caller or an editor lists drafts
    # Then both are forbidden: 403
    assert_problem(anonymous.get("/v1/products", params={"status": "draft"}), 403, "forbidden")
    assert_problem(api.get("/v1/products", params={"status": "draft"}), 403, "forbidden")
    # When an admin lists drafts
    admin = api.as_user(demo_user(local_system.url, "admin"))
    listed = admin.get("/v1/products", params={"status": "draft", "limit": 100}).json()
    # Then only drafts come back, the new one first
    assert all(p["status"] == "draft" for p in listed["items"])
    assert listed["items"][0]["id"] == draft["id"]  # newest first


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "stock"},
        {"status": "sold"},
        {"category": "Not A Slug"},
        {"category": "x" * 65},
        {"sort": "price", "min_price": "1.001"},
        {"sort": "price", "max_price": "-1"},
        {"tag": "Not A Slug"},
        {"tag": [f"t{n}" for n in range(11)]},  # at most 10 tags
        {"tag_mode": "some"},
        {"in_stock": "maybe"},
        {"q": "x" * 101},
        {"q": "   "},
        {"q": "!?"},  # no letter or digit to search for
        {"q": "mug\u0000"},
        {"sort": "price", "min_price": "9", "max_price": "5"},
    ],
)
def test_unknown_filters_and_orders_are_422(anonymous: Api, params: dict[str, str]) -> None:
    # When the listing is asked for with an unknown filter or order
    # Then it is refused: 422
    assert_problem(anonymous.get("/v1/products", params=params), 422, "validation-error")


def test_listing_by_price_within_a_range(api: Api, anonymous: Api) -> None:
    # Given lighting products at 3.50, 7.25, 12.00 and 99.99
    category = "lighting"
    prices = ["3.50", "7.25", "12.00", "99.99"]
    for price in prices:
        create(api, category=category, price=price)
    # When an anonymous caller lists lighting from 3.5 to 12, cheapest first
    params = {"category": category, "sort": "price", "min_price": "3.5", "max_price": "12"}
    cheap_first = anonymous.get("/v1/products", params={**params, "limit": 100}).json()["items"]
    # Then they come cheapest first, all within the range, the three new ones included
    seen = [Decimal(p["price"]) for p in cheap_first]
    assert seen == sorted(seen)
    assert all(Decimal("3.5") <= price <= Decimal("12") for price in seen)
    assert {Decimal("3.50"), Decimal("7.25"), Decimal("12.00")} <= set(seen)
    # When the same range is listed dearest first
    dear_first = anonymous.get("/v1/products", params={**params, "sort": "-price", "limit": 100})
    # Then the same products come back in reverse order
    assert [Decimal(p["price"]) for p in dear_first.json()["items"]] == sorted(seen, reverse=True)


def test_paging_by_price_is_complete_and_bound_to_its_range(api: Api, anonymous: Api) -> None:
    # Given lighting products at 20, 20, 21 and 22
    for price in ("20.00", "20.00", "21.00", "22.00"):
        create(api, category="lighting", price=price)
    # And the whole listing from 20 to 22, cheapest first, in one page
    params = {"category": "lighting", "sort": "price", "min_price": "20", "max_price": "22"}
    everything = anonymous.get("/v1/products", params={**params, "limit": 100}).json()["items"]
    # When a client pages through it one product at a time
    paged: list[str] = []
    cursor = None
    while True:
        page = anonymous.get(
            "/v1/products", params={**params, "limit": 1, **({"cursor": cursor} if cursor else {})}
        ).json()
        paged += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # Then each cursor is refused for another price range: 400
        assert_problem(
            anonymous.get("/v1/products", params={**params, "max_price": "23", "cursor": cursor}),
            400,
            "invalid-cursor",
        )
    # And paging found the same products in the same order
    assert paged == [p["id"] for p in everything]


def test_listing_by_name_ignores_case_and_accents(api: Api, anonymous: Api) -> None:
    # Given a fresh category with products named in mixed case and with accents
    category = f"names-{uuid.uuid4().hex[:6]}"
    admin = api.as_user(demo_user(anonymous.base_url, "admin"))
    assert admin.post("/v1/categories", json={"slug": category, "name": "N"}).status_code == 201
    for name in ("zinc bowl", "Émaille cup", "apple crate", "Eagle lamp"):
        create(api, category=category, name=name)
    # When an anonymous caller lists it by name
    listed = anonymous.get("/v1/products", params={"category": category, "sort": "name"}).json()
    # Then the names come in alphabetical order, ignoring case and accents
    assert [p["name"] for p in listed["items"]] == [
        "apple crate",
        "Eagle lamp",
        "Émaille cup",
        "zinc bowl",
    ]
    # When it is listed by name backwards
    backwards = anonymous.get("/v1/products", params={"category": category, "sort": "-name"})
    # Then the order is reversed
    assert [p["name"] for p in backwards.json()["items"]] == [
        "zinc bowl",
        "Émaille cup",
        "Eagle lamp",
        "apple crate",
    ]


def all_pages(client: Api, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(
            "/v1/products", params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


def test_listing_by_tags_any_or_all(api: Api, anonymous: Api) -> None:
    # Given products tagged red, red and round, and round, and a red draft
    unique = uuid.uuid4().hex[:8]
    red, round_ = f"red-{unique}", f"round-{unique}"
    only_red = create(api, tags=[red])
    both = create(api, tags=[red, round_])
    only_round = create(api, tags=[round_])
    create(api, tags=[red], status="draft")  # not listed: not active
    # When a client lists products with either tag, two at a time
    any_of = all_pages(anonymous, {"tag": [red, round_], "limit": 2})
    # Then the three active ones come back
    assert {p["id"] for p in any_of} == {only_red["id"], both["id"], only_round["id"]}
    # When a client lists products with both tags
    all_of = all_pages(anonymous, {"tag": [red, round_], "tag_mode": "all"})
    # Then only the one with both comes back
    assert [p["id"] for p in all_of] == [both["id"]]
    # When a client lists one tag by price
    one = all_pages(anonymous, {"tag": red, "sort": "price"})
    # Then both active red products come back, in price order, then by id
    assert [p["id"] for p in one] == sorted(
        [only_red["id"], both["id"]], key=lambda i: (Decimal("14.90"), i)
    )


def test_listing_only_what_is_in_stock(api: Api, anonymous: Api) -> None:
    # Given a product in stock and one out of stock, under one tag
    tag = f"stock-{uuid.uuid4().hex[:8]}"
    stocked = create(api, tags=[tag], stock=2)
    create(api, tags=[tag], stock=0)
    # When a client lists that tag, in stock only
    listed = all_pages(anonymous, {"tag": tag, "in_stock": "true"})
    # Then only the stocked one comes back
    assert [p["id"] for p in listed] == [stocked["id"]]
    # And without the filter both do
    assert len(all_pages(anonymous, {"tag": tag})) == 2


def test_search_matches_word_prefixes_of_name_and_sku_without_case_or_accents(
    api: Api, anonymous: Api
) -> None:
    # Given a torch, a creamer jug and a draft dish, named with one unique word
    unique = uuid.uuid4().hex[:6]
    torch = create(api, name=f"Crème brûlée torch Q{unique}", sku=f"CB-{unique}-TORCH")
    create(api, name=f"Creamer jug Q{unique}")
    create(api, name=f"Crème brûlée dish Q{unique}", status="draft")

    def search(q: str, **params: Any) -> list[str]:
        return [p["id"] for p in all_pages(anonymous, {"q": q, **params})]

    # When a client searches words of the torch's name, in any case, without accents, or by prefix
    # Then the torch alone is found
    assert search(f"CREME BRU q{unique}") == [torch["id"]]
    assert search(f"crème q{unique}") == [torch["id"]]
    assert search(f"q{unique} tor") == [torch["id"]]
    # And the words of its SKU find it too
    assert search(f"cb {unique}") == [torch["id"]]  # SKU words
    # And a prefix shared by two active products finds both
    assert len(search(f"q{unique} cre")) == 2
    # And a category filter narrows the search
    assert search(f"q{unique} cre", category="lighting") == []
    # And a draft is never found
    assert search(f"q{unique} brulee dish") == []  # the dish is a draft


def test_a_search_cursor_is_bound_to_its_words(api: Api, anonymous: Api) -> None:
    # Given three lanterns named with one unique word
    unique = uuid.uuid4().hex[:6]
    for _ in range(3):
        create(api, name=f"Lantern L{unique}")
    # When a client searches for that word, two at a time
    first = anonymous.get("/v1/products", params={"q": f"l{unique}", "limit": 2}).json()
    # Then the first page holds two
    assert len(first["items"]) == 2
    # When the cursor is used for a search with other words
    again = anonymous.get(
        "/v1/products",
        params={"q": f"lantern l{unique}", "limit": 2, "cursor": first["next_cursor"]},
    )
    # Then it is refused: 400, invalid cursor
    assert_problem(again, 400, "invalid-cursor")
    # When the cursor continues the same search
    rest = anonymous.get(
        "/v1/products", params={"q": f"l{unique}", "limit": 2, "cursor": first["next_cursor"]}
    ).json()
    # Then the last lantern comes back, with no further page
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None


def test_a_renamed_or_retagged_product_is_found_by_its_new_words_and_tags_only(
    api: Api, anonymous: Api
) -> None:
    # Given a product named Kettle with an old tag
    unique = uuid.uuid4().hex[:6]
    product = create(api, name=f"Kettle K{unique}", tags=[f"old-{unique}"])
    # When it is renamed Teapot and retagged
    changed = api.patch(
        f"/v1/products/{product['id']}",
        json={"name": f"Teapot K{unique}", "tags": [f"new-{unique}"]},
    )
    # Then the change is applied
    assert changed.status_code == 200
    # And its old name no longer finds it, its new name does
    assert all_pages(anonymous, {"q": f"kettle k{unique}"}) == []
    assert [p["name"] for p in all_pages(anonymous, {"q": f"teapot k{unique}"})] == [
        f"Teapot K{unique}"
    ]
    # And its old tag no longer lists it, its new tag does
    assert all_pages(anonymous, {"tag": f"old-{unique}"}) == []
    assert len(all_pages(anonymous, {"tag": f"new-{unique}"})) == 1
    # When it is deleted
    assert api.delete(f"/v1/products/{product['id']}").status_code == 204
    # Then neither its name nor its tag finds it
    assert all_pages(anonymous, {"q": f"teapot k{unique}"}) == []
    assert all_pages(anonymous, {"tag": f"new-{unique}"}) == []
