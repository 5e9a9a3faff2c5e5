"""Change events end to end: product writes -> stream -> publisher -> SNS -> SQS -> signed
webhook deliveries, with retries and the dead-letter queue, through the local system."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import boto3
import pytest

from catalog.events.signature import verify
from tests.conftest import product_payload
from tests.e2e.conftest import Api
from tests.e2e.receiver import events_for
from tests.users import demo_user


@pytest.fixture(scope="module")
def admin(local_system: Any) -> Api:
    return Api(local_system.url, demo_user(local_system.url, "admin"))


def test_a_write_reaches_the_webhook_signed_with_its_secret(
    local_system: Any, api: Api, register: Any
) -> None:
    # Given a registered webhook
    receiver, webhook = register()
    # When an editor creates an active product
    created = api.post("/v1/products", json=product_payload(category="kitchen"))
    assert created.status_code == 201
    product = created.json()
    # And its events have been handled
    local_system.drain_events(60)
    # Then the receiver got product.created and product.published, in the envelope
    events = events_for(receiver, product["id"])
    assert sorted(e["type"] for e in events) == ["product.created", "product.published"]
    for event in events:
        assert set(event) == {"id", "type", "time", "source", "subject", "data", "previous"}
        assert event["data"]["id"] == product["id"]
        assert event["data"]["price"] == "14.90"
        assert event["previous"] is None
        assert event["source"] == "catalog.products"
    # And each request is signed with the secret shown at registration, with the event id
    for request in receiver.accepted():
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert verify(webhook["secret"], headers["catalog-signature"], request.body)
        assert headers["catalog-event-id"] == request.event["id"]
        assert not verify("whsec_wrong", headers["catalog-signature"], request.body)


def test_updates_price_drops_and_deletes_become_their_event_types(
    local_system: Any, api: Api, register: Any
) -> None:
    # Given a registered webhook and a draft product
    receiver, _ = register()
    product = api.post("/v1/products", json=product_payload(status="draft")).json()
    etag = {"If-Match": f'"{product["version"]}"'}
    # When it is published and made cheaper in one change, then deleted
    changed = api.patch(
        f"/v1/products/{product['id']}", json={"status": "active", "price": "9.90"}, headers=etag
    )
    assert changed.status_code == 200, changed.text
    assert api.delete(f"/v1/products/{product['id']}").status_code == 204
    # And the events have been handled
    local_system.drain_events(60)
    events = events_for(receiver, product["id"])
    # Then each change gave its events, with the state before it
    assert sorted(e["type"] for e in events) == [
        "product.created",
        "product.deleted",
        "product.price_changed",
        "product.published",
        "product.updated",
    ]
    by_type = {e["type"]: e for e in events}
    assert by_type["product.price_changed"]["previous"]["price"] == "14.90"
    assert by_type["product.price_changed"]["data"]["price"] == "9.90"
    assert by_type["product.deleted"]["data"] is None
    assert by_type["product.deleted"]["previous"]["id"] == product["id"]
    # And the event ids are distinct (derived from the stream record and the type)
    assert len({e["id"] for e in events}) == 5


def test_a_webhook_gets_only_the_event_types_it_asked_for(
    local_system: Any, api: Api, register: Any
) -> None:
    # Given a webhook registered for product.deleted only
    receiver, _ = register(events=["product.deleted"])
    # When a product is created and then deleted
    product = api.post("/v1/products", json=product_payload()).json()
    api.delete(f"/v1/products/{product['id']}")
    # And the events have been handled
    local_system.drain_events(60)
    # Then the webhook got product.deleted only
    assert [e["type"] for e in events_for(receiver, product["id"])] == ["product.deleted"]


def test_the_secret_is_shown_once(admin: Api, register: Any) -> None:
    # When an admin registers a webhook
    _, webhook = register()
    # Then the answer shows its secret, a long whsec_ string
    assert webhook["secret"].startswith("whsec_") and len(webhook["secret"]) > 40
    # When the admin reads the webhook again
    again = admin.get(f"/v1/webhooks/{webhook['id']}").json()
    # Then the secret is not shown
    assert "secret" not in again
    # And the listing shows the webhook, without any secret
    listed = admin.get("/v1/webhooks").json()["items"]
    assert all("secret" not in w for w in listed)
    assert webhook["id"] in {w["id"] for w in listed}


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",  # the instance metadata service
        "http://10.0.0.8/hook",
        "http://192.168.1.1/hook",
        "http://[fd00:ec2::254]/hook",
        "http://user:pw@127.0.0.1/hook",
        "http://no-such-host.invalid/hook",
    ],
)
def test_unsafe_urls_are_refused_even_locally(admin: Api, url: str) -> None:
    # When an admin registers a webhook with an unsafe URL
    response = admin.post("/v1/webhooks", json={"url": url, "events": ["product.created"]})
    # Then it is refused: 422, pointing at the URL
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "urn:catalog:problem:validation-error"
    assert problem["errors"][0]["pointer"] == "#/url"


def test_ping_is_delivered_and_listed_in_deliveries(
    local_system: Any, admin: Api, register: Any
) -> None:
    # Given a quiet system (the deliveries list holds the 50 newest attempts: a backlog of
    # earlier tests' product events could push the ping out of it), and a registered webhook
    local_system.drain_events(120)
    receiver, webhook = register()
    # When an admin pings it
    queued = admin.post(f"/v1/webhooks/{webhook['id']}/ping")
    # Then the ping is queued: 202
    assert queued.status_code == 202
    # And, once delivered, the receiver got exactly that ping
    local_system.drain_events(60)
    pings = [r.event for r in receiver.accepted() if r.event["type"] == "webhook.ping"]
    assert [p["id"] for p in pings] == [queued.json()["event_id"]]
    # And the deliveries list shows it once, succeeded: 200 (the list may also hold product
    # events that earlier tests' writes on this system delivered to the new webhook)
    deliveries = admin.get(f"/v1/webhooks/{webhook['id']}/deliveries").json()["items"]
    ping = [d for d in deliveries if d["event_id"] == queued.json()["event_id"]]
    assert len(ping) == 1, deliveries
    assert ping[0]["ok"] is True and ping[0]["status_code"] == 200


def test_a_receiver_failing_its_first_attempts_gets_the_event_after_retries(
    local_system: Any, api: Api, admin: Api, register: Any
) -> None:
    # Given a receiver that answers 503 to the first two attempts of each delivery
    receiver, webhook = register(
        decide=lambda event, attempt: 503 if attempt <= 2 else 200, events=["product.deleted"]
    )
    # When a product is created and then deleted
    product = api.post("/v1/products", json=product_payload()).json()
    started = time.monotonic()
    api.delete(f"/v1/products/{product['id']}")
    # And the deliveries have run their course
    local_system.drain_events(90)
    # Then it got the event on the third attempt, after growing delays
    tries = [r for r in receiver.all() if r.event["subject"] == f"products/{product['id']}"]
    assert [r.status for r in tries] == [503, 503, 200]
    assert [r.headers["Catalog-Delivery-Attempt"] for r in tries] == ["1", "2", "3"]
    assert time.monotonic() - started >= 2  # the local stage's delays: 1 s, then 1 s
    # And the deliveries list shows each attempt
    deliveries = admin.get(f"/v1/webhooks/{webhook['id']}/deliveries").json()["items"]
    mine = [d for d in deliveries if d["event_id"] == tries[0].event["id"]]
    assert sorted((d["attempt"], d["ok"], d["status_code"]) for d in mine) == [
        (1, False, 503),
        (2, False, 503),
        (3, True, 200),
    ]
    assert all(d["error"] == "answered 503" for d in mine if not d["ok"])


def dlq_bodies(local_system: Any) -> list[str]:
    """The bodies in the deliveries DLQ (received, so hidden from the next call for 30 s)."""
    sqs = boto3.client("sqs", endpoint_url=local_system.aws_url)
    url = local_system.names["queues"]["webhook-deliveries-dlq"]
    got: list[str] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)
        if not batch.get("Messages"):
            return got
        got += [m["Body"] for m in batch["Messages"]]


def test_a_receiver_that_always_fails_sends_the_delivery_to_the_dlq(
    local_system: Any, api: Api, admin: Api, register: Any
) -> None:
    # Given a receiver answering 500 to every attempt, registered for product.deleted
    receiver, webhook = register(decide=lambda event, attempt: 500, events=["product.deleted"])
    # When a product is created and then deleted
    product = api.post("/v1/products", json=product_payload()).json()
    api.delete(f"/v1/products/{product['id']}")
    # And the deliveries have run their course
    local_system.drain_events(120)

    def tries() -> list[Any]:
        return [r for r in receiver.all() if r.event["subject"] == f"products/{product['id']}"]

    # Then every attempt the queue allows (its max_receives, 8) reached the receiver. The
    # receiver's thread may record the last one a moment after the deliverer gave up
    # waiting for its answer, so the count is awaited briefly; the history says why not.
    with contextlib.suppress(TimeoutError):
        local_system.events.wait_until(lambda: len(tries()) >= 8, 10)
    history = admin.get(f"/v1/webhooks/{webhook['id']}/deliveries").json()["items"]
    assert len(tries()) == 8, sorted((d["attempt"], d["status_code"], d["error"]) for d in history)
    # And the delivery ended in the dead-letter queue
    dead = [
        json.loads(body)
        for body in dlq_bodies(local_system)
        if body.startswith('{"') and json.loads(body)["webhook_id"] == webhook["id"]
    ]
    assert [m["event"]["subject"] for m in dead] == [f"products/{product['id']}"]


def test_a_poison_delivery_message_does_not_block_its_batch(
    local_system: Any, register: Any
) -> None:
    # Given a quiet system: events of earlier tests would reach a webhook for every event
    local_system.drain_events(120)
    # And a good delivery and an unreadable one in the same queue, sent together
    receiver, webhook = register()
    sqs = boto3.client("sqs", endpoint_url=local_system.aws_url)
    good = {"id": "ev-good", "type": "webhook.ping", "subject": "webhooks/x", "data": {}}
    sqs.send_message_batch(
        QueueUrl=local_system.names["queues"]["webhook-deliveries"],
        Entries=[
            {"Id": "poison", "MessageBody": "{not json"},
            {"Id": "good", "MessageBody": json.dumps({"webhook_id": webhook["id"], "event": good})},
        ],
    )
    # When the deliveries have been handled
    local_system.drain_events(120)
    # Then the good one was delivered once, and the poison ended in the DLQ
    assert [r.event["id"] for r in receiver.accepted()] == ["ev-good"]
    assert "{not json" in dlq_bodies(local_system)
