"""No event lost under faults: 500 product writes while ~30% of publish calls and of
webhook deliveries fail; every subscribed receiver still gets all 500 events.

Faults injected:
- publishing: ~30% of the publisher's SNS PublishBatch calls fail, half of them entirely
  (an error) and half partly (some entries refused), never more than 3 calls in a row
  (SNS recovers); injected in this process's botocore, below the publisher's code.
- delivery: each receiver answers 500 to ~30% of requests, at most on the first 3
  attempts of an event (the receiver recovers), so retries must carry every event through.
The figures (sent, delivered, duplicates, DLQ) are printed and recorded as properties.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from ulid import ULID

from catalog.products.items import ProductItem, to_item
from catalog.products.schemas import Product
from tests.conftest import product_payload
from tests.e2e.conftest import Api, queue_depth
from tests.e2e.receiver import Receiver
from tests.scale import remove_unstreamed
from tests.users import demo_user

WRITES = 500
FAILURE_RATE = 0.3


class FlakySns:
    """Makes about FAILURE_RATE of PublishBatch calls fail, at most 3 in a row."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.in_a_row = 0
        self.calls = Counter[str]()

    def __call__(self, original: Any) -> Any:
        flaky = self

        def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if operation != "PublishBatch":
                return original(client, operation, params)
            with flaky.lock:
                fail = flaky.in_a_row < 3 and flaky.random.random() < FAILURE_RATE
                flaky.in_a_row = flaky.in_a_row + 1 if fail else 0
                whole = flaky.random.random() < 0.5
                entries = params["PublishBatchRequestEntries"]
                refused = flaky.random.sample(entries, k=flaky.random.randint(1, len(entries)))
                flaky.calls["calls"] += 1
                if fail:
                    flaky.calls["failed entirely" if whole else "failed partly"] += 1
            if not fail:
                return original(client, operation, params)
            if whole:
                raise ClientError(
                    {"Error": {"Code": "InternalError", "Message": "injected"}}, operation
                )
            kept = [e for e in entries if e not in refused]
            answer = (
                original(client, operation, {**params, "PublishBatchRequestEntries": kept})
                if kept
                else {"Successful": [], "Failed": []}
            )
            answer["Failed"] = list(answer.get("Failed", [])) + [
                {"Id": e["Id"], "Code": "InternalError", "SenderFault": False} for e in refused
            ]
            return answer

        return call


def flaky_receiver(seed: int) -> Receiver:
    chance = random.Random(seed)
    lock = threading.Lock()

    def decide(event: dict[str, Any], attempt: int) -> int:
        with lock:
            fail = attempt <= 3 and chance.random() < FAILURE_RATE
        return 500 if fail else 200

    return Receiver(decide).start()


@pytest.fixture
def flaky_sns(monkeypatch: pytest.MonkeyPatch) -> Iterator[FlakySns]:
    flaky = FlakySns(seed=6)
    monkeypatch.setattr(BaseClient, "_make_api_call", flaky(BaseClient._make_api_call))
    yield flaky


def new_product(owner: str) -> Product:
    now = datetime.now(UTC)
    # Drafts: one event each (product.created), which is what the receivers want; active
    # products would add product.published, doubling the work without testing more.
    payload = product_payload(category="apparel", status="draft")
    return Product(
        id=str(ULID.from_datetime(now)),
        owner=owner,
        created_at=now,
        updated_at=now,
        version=1,
        **{k: payload[k] for k in ("sku", "name", "description", "price", "currency")},
        **{k: payload[k] for k in ("category", "tags", "stock", "status")},
    )


def write_products(products: list[Product]) -> None:
    """Product items exactly as the API stores them, written with BatchWriteItem: moto's
    transactions copy every table on each call, too slow for 500 writes; the stream records,
    which are what this test is about, are the same."""
    with ProductItem.batch_write() as batch:
        for product in products:
            item = to_item(product, None)
            item.version = product.version
            batch.save(item)


@pytest.mark.timeout(900)
def test_500_writes_under_30_percent_faults_reach_every_receiver(
    local_system: Any, api: Api, flaky_sns: FlakySns, record_property: Any
) -> None:
    # Given SNS publish calls failing ~30% of the time, and an admin
    admin = Api(local_system.url, demo_user(local_system.url, "admin"))
    # And quiet queues, with what their dead-letter queues already hold noted
    local_system.drain_events(120)  # start from quiet queues: the counts below are ours
    dlq_before = queue_depth(local_system, "webhook-deliveries-dlq")
    failures_before = queue_depth(local_system, "publisher-failures")
    # Given two receivers, each failing ~30% of deliveries, registered for product.created
    receivers = [flaky_receiver(seed) for seed in (1, 2)]
    webhook_ids = []
    for receiver in receivers:
        created = admin.post(
            "/v1/webhooks", json={"url": receiver.url, "events": ["product.created"]}
        )
        assert created.status_code == 201, created.text
        webhook_ids.append(created.json()["id"])
    try:
        # When 500 products are written to the table
        products = [new_product(api.user.sub if api.user else "owner") for _ in range(WRITES)]
        write_products(products)
        product_ids = {p.id for p in products}
        # And the events have all been handled
        local_system.drain_events(600)
    finally:
        for webhook_id in webhook_ids:
            admin.delete(f"/v1/webhooks/{webhook_id}")
        for receiver in receivers:
            receiver.stop()
        # Out of the shared table again, without 500 deletion events for the pump to carry
        # through during the next tests (their deletion is not what this test is about)
        remove_unstreamed(products)

    # Then every receiver got every event, at least once, duplicates recognisable by id
    figures: dict[str, Any] = {
        "sent": WRITES,
        "publish_calls": flaky_sns.calls["calls"],
        "publish_failed_entirely": flaky_sns.calls["failed entirely"],
        "publish_failed_partly": flaky_sns.calls["failed partly"],
    }
    for number, receiver in enumerate(receivers, start=1):
        created = [
            r.event
            for r in receiver.accepted()
            if r.event["type"] == "product.created" and r.event["data"]["id"] in product_ids
        ]
        ids = Counter(e["id"] for e in created)
        assert {e["data"]["id"] for e in created} == product_ids  # none missing
        assert len(ids) == WRITES  # one id per product's creation
        figures[f"receiver{number}"] = {
            "delivered": len(created),
            "distinct": len(ids),
            "duplicates": len(created) - len(ids),
            "failed_attempts": sum(1 for r in receiver.all() if r.status >= 300),
        }
    # And the figures (sent, delivered, duplicates, dead letters) are recorded
    figures["deliveries_dlq"] = queue_depth(local_system, "webhook-deliveries-dlq") - dlq_before
    figures["publisher_failures"] = (
        queue_depth(local_system, "publisher-failures") - failures_before
    )
    print("\nfault-test figures:", json.dumps(figures))
    record_property("figures", json.dumps(figures))
    # And faults were really injected
    assert flaky_sns.calls["failed entirely"] + flaky_sns.calls["failed partly"] > 0
    # And no delivery was dead-lettered and no publish was given up
    assert figures["deliveries_dlq"] == 0
    assert figures["publisher_failures"] == 0
