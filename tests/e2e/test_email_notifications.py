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
    # Given a freshly registered user
    reader = new_user(local_system.url, tag="subscriber")
    me = Api(local_system.url, reader)
    # Then they start with no subscriptions
    assert me.get("/v1/users/me/subscriptions").json()["categories"] == []
    # When they subscribe to one category, named twice
    put = me.request("PUT", "/v1/users/me/subscriptions", json={"categories": ["home", "home"]})
    # Then the subscription holds it once
    assert put.status_code == 200, put.text
    assert put.json()["categories"] == ["home"]
    # When they replace it with another category
    me.request("PUT", "/v1/users/me/subscriptions", json={"categories": ["apparel"]})
    # Then only the new one is read back
    assert me.get("/v1/users/me/subscriptions").json()["categories"] == ["apparel"]


def test_an_unknown_category_is_refused(local_system: Any) -> None:
    # Given a freshly registered user
    me = Api(local_system.url, new_user(local_system.url, tag="subscriber"))
    # When they subscribe to a known and an unknown category
    response = me.request(
        "PUT", "/v1/users/me/subscriptions", json={"categories": ["kitchen", "no-such"]}
    )
    # Then it is refused: 422, pointing at the unknown one
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/categories/1"


def test_published_products_and_price_drops_are_emailed_to_subscribers(
    local_system: Any, api: Api
) -> None:
    # Given a quiet system: earlier tests' product events would email new subscribers too
    local_system.drain_events(120)
    # And a user subscribed to lighting, and one subscribed to apparel only
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
    # And the events have all been handled
    local_system.drain_events(60)
    # Then the lighting subscriber got exactly two emails from the repository's templates
    subjects = sorted(e.subject for e in emails_to(local_system, reader.email))
    assert subjects == ["New in lighting: Arc lamp", "Price drop: Arc lamp now 65.00 EUR"]
    # And the price drop email gives the old price and names the product
    drop = next(e for e in emails_to(local_system, reader.email) if "Price drop" in e.subject)
    assert "was 80.00 EUR" in drop.body
    assert lamp["id"] in drop.body
    # And the apparel subscriber got none of them
    assert emails_to(local_system, other.email) == []
