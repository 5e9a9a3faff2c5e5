"""Stream records -> change events, and the publisher's partial-batch answer."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.events.envelope import change_events, event_id
from catalog.events.publisher import publish

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/p/stream/2026"


def image(**overrides: Any) -> dict[str, Any]:
    values = {
        "id": "01J00000000000000000000000",
        "sku": "MUG-1",
        "name": "Mug",
        "description": "",
        "price": "14.90",
        "currency": "EUR",
        "category": "kitchen",
        "status": "active",
        "owner": "sub-1",
        "created_at": "2026-11-26T10:00:00.000Z",
        "updated_at": "2026-11-26T10:00:00.000Z",
    }
    values.update(overrides)
    item: dict[str, Any] = {k: {"S": str(v)} for k, v in values.items()}
    item |= {"pk": {"S": f"PRODUCT#{values['id']}"}, "sk": {"S": "PRODUCT"}}
    item |= {"stock": {"N": "3"}, "version": {"N": "1"}, "tags": {"L": []}}
    item["price"] = {"N": str(values["price"])}
    return item


def record(sequence: str, old: Any = None, new: Any = None) -> dict[str, Any]:
    dynamodb: dict[str, Any] = {"SequenceNumber": sequence, "ApproximateCreationDateTime": 1.8e9}
    if old:
        dynamodb["OldImage"] = old
    if new:
        dynamodb["NewImage"] = new
    name = "MODIFY" if old and new else ("INSERT" if new else "REMOVE")
    return {"eventName": name, "eventSourceARN": ARN, "dynamodb": dynamodb}


def types(rec: dict[str, Any]) -> list[str]:
    return [e["type"] for e in change_events(rec)]


def test_a_created_active_product_is_created_and_published() -> None:
    assert types(record("1", new=image())) == ["product.created", "product.published"]
    assert types(record("1", new=image(status="draft"))) == ["product.created"]


def test_an_update_may_publish_and_change_the_price() -> None:
    old, new = image(status="draft"), image(status="active", price="9.90")
    assert types(record("2", old, new)) == [
        "product.updated",
        "product.published",
        "product.price_changed",
    ]
    assert types(record("3", image(), image(name="Big mug"))) == ["product.updated"]


def test_a_removal_is_deleted_with_the_previous_state() -> None:
    (event,) = change_events(record("4", old=image()))
    assert event["type"] == "product.deleted"
    assert event["data"] is None and event["previous"]["price"] == "14.90"  # type: ignore[index]


def test_items_that_are_not_products_give_no_events() -> None:
    guard = {"pk": {"S": "SKU#MUG-1"}, "sk": {"S": "SKU"}, "product_id": {"S": "x"}}
    assert change_events(record("5", new=guard)) == []


def test_ids_derive_from_the_record_so_a_republish_repeats_them() -> None:
    first = [e["id"] for e in change_events(record("6", new=image()))]
    again = [e["id"] for e in change_events(record("6", new=image()))]
    other = [e["id"] for e in change_events(record("7", new=image()))]
    assert first == again and len(set(first)) == 2
    assert not set(first) & set(other)
    assert first[0] == event_id(ARN, "6", "product.created")


class FakeSns:
    def __init__(self, refuse: set[str] = frozenset(), fail_calls: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        self.refuse, self.fail_calls, self.calls = refuse, fail_calls, 0
        self.published: list[str] = []

    def publish_batch(self, TopicArn: str, PublishBatchRequestEntries: list[Any]) -> Any:
        self.calls += 1
        if self.calls in self.fail_calls:
            raise RuntimeError("SNS unavailable")
        failed = []
        for entry in PublishBatchRequestEntries:
            if any(r in entry["Message"] for r in self.refuse):
                failed.append({"Id": entry["Id"], "Code": "InternalError"})
            else:
                self.published.append(entry["Message"])
        return {"Failed": failed}


@pytest.fixture(autouse=True)
def topic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOPIC_PRODUCT_CHANGES", "arn:aws:sns:us-east-1:123456789012:t")


def test_a_fully_published_batch_reports_no_failure() -> None:
    records = [record(str(n), new=image(id=f"01J0000000000000000000000{n}")) for n in range(3)]
    sns = FakeSns()
    assert publish(records, sns) == {"batchItemFailures": []}
    assert len(sns.published) == 6


def test_a_refused_event_reports_its_record_as_the_checkpoint() -> None:
    records = [record(str(n), new=image(id=f"01J0000000000000000000000{n}")) for n in range(3)]
    sns = FakeSns(refuse={"01J00000000000000000000001"})
    answer = publish(records, sns)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "1"}]}


def test_a_failed_call_reports_the_first_record_it_carried() -> None:
    records = [record(str(n), new=image(id=f"01J000000000000000000000{n:02}")) for n in range(8)]
    sns = FakeSns(fail_calls={2})  # events 10..15 (records 5..7) are in the second call
    answer = publish(records, sns)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "5"}]}


def test_an_unreadable_record_stops_the_batch_there() -> None:
    broken = image()
    del broken["price"]  # not a product the schema accepts
    records = [record("1", new=image()), record("2", new=broken), record("3", new=image())]
    sns = FakeSns()
    assert publish(records, sns) == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    assert len(sns.published) == 2  # only the first record's events
