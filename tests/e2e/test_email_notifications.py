"""Email subscriptions: published products and price drops in a subscribed category are
emailed through SES (moto's, read back through the local mailbox)."""

from __future__ import annotations

from typing import Any

from infra.local.mailbox import SentEmail, sent_emails
from tests.conftest import product_payload
from tests.e2e.conftest import Api
from tests.users import new_user


def emails_to(local_system: Any, address: str) -> list[SentEmail]:
    return [e for e in sent_emails(local_system.region) if address in e.to]


def test_subscriptions_are_replaced_and_read_back(local_system: Any) -> None:
    reader = new_user(local_system.url, tag="subscriber")
    me = Api(local_system.url, reader)
    assert me.get("/v1/users/me/subscriptions").json()["categories"] == []
    put = me.request("PUT", "/v1/users/me/subscriptions", json={"categories": ["home", "home"]})
    assert put.status_code == 200, put.text
    assert put.json()["categories"] == ["home"]
    me.request("PUT", "/v1/users/me/subscriptions", json={"categories": ["apparel"]})
    assert me.get("/v1/users/me/subscriptions").json()["categories"] == ["apparel"]


def test_an_unknown_category_is_refused(local_system: Any) -> None:
    me = Api(local_system.url, new_user(local_system.url, tag="subscriber"))
    response = me.request(
        "PUT", "/v1/users/me/subscriptions", json={"categories": ["kitchen", "no-such"]}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/categories/1"


def test_published_products_and_price_drops_are_emailed_to_subscribers(
    local_system: Any, api: Api
) -> None:
    # Given a user subscribed to lighting, and one subscribed to apparel only
    reader, other = (new_user(local_system.url, tag="subscriber") for _ in range(2))
    Api(local_system.url, reader).request(
        "PUT", "/v1/users/me/subscriptions", json={"categories": ["lighting"]}
    )
    Api(local_system.url, other).request(
        "PUT", "/v1/users/me/subscriptions", json={"categories": ["apparel"]}
    )
    # When a lighting product is published, one stays a draft, and the first gets cheaper
    lamp = api.post(
        "/v1/products", json=product_payload(category="lighting", name="Arc lamp", price="80.00")
    ).json()
    api.post("/v1/products", json=product_payload(category="lighting", status="draft"))
    cheaper = api.patch(
        f"/v1/products/{lamp['id']}",
        json={"price": "65.00"},
        headers={"If-Match": f'"{lamp["version"]}"'},
    ).json()
    api.patch(
        f"/v1/products/{lamp['id']}",
        json={"price": "70.00"},  # a rise: no email
        headers={"If-Match": f'"{cheaper["version"]}"'},
    )
    local_system.drain_events(60)
    # Then the lighting subscriber got exactly two emails from the repository's templates
    subjects = sorted(e.subject for e in emails_to(local_system, reader.email))
    assert subjects == ["New in lighting: Arc lamp", "Price drop: Arc lamp now 65.00 EUR"]
    drop = next(e for e in emails_to(local_system, reader.email) if "Price drop" in e.subject)
    assert "was 80.00 EUR" in drop.body
    assert lamp["id"] in drop.body
    # And the apparel subscriber got none of them
    assert emails_to(local_system, other.email) == []
