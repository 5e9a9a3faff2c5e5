"""Business metrics reach CloudWatch as EMF: sign-ups, sign-in failures and webhook delivery
outcomes are counted where they happen, under the one namespace and service dimension."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from catalog.auth.service import AuthService
from catalog.core import business_metrics as names
from catalog.core.errors import ServiceUnavailable, Unauthorized
from catalog.core.observability import flush_metrics, metrics
from catalog.users.directory import IssuedTokens
from catalog.webhooks.delivery import Attempt
from tests.unit.handlers import load_handler
from tests.unit.test_auth_service import FakeDirectory, FakeProfiles, SignOuts


def counted(out: str) -> dict[str, float]:
    """Metric name -> value, from the EMF lines printed since the last capture."""
    found: dict[str, float] = {}
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        if "_aws" not in record:
            continue
        (directive,) = record["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Catalog"
        assert directive["Dimensions"] == [["service"]]
        assert record["service"] == "catalog"
        for metric in directive["Metrics"]:
            assert metric["Unit"] == "Count"
            value = record[metric["Name"]]  # a list when recorded more than once
            total = sum(value) if isinstance(value, list) else value
            found[metric["Name"]] = found.get(metric["Name"], 0) + total
    return found


@pytest.fixture(autouse=True)
def namespace(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # As infra.topology.function_environment sets it in both runtimes.
    monkeypatch.setattr(metrics, "namespace", "Catalog")
    monkeypatch.setattr(metrics, "service", "catalog")
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def auth(directory: FakeDirectory, profiles: FakeProfiles | None = None) -> AuthService:
    return AuthService(
        directory, profiles or FakeProfiles(), auto_confirm=lambda: True, sign_outs=SignOuts()
    )


def test_a_new_account_counts_one_sign_up_and_a_taken_email_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a directory with no accounts
    service = auth(FakeDirectory())
    # When the same email registers twice
    service.register("a@example.com", "pw", "A")
    service.register("a@example.com", "pw", "A")
    flush_metrics()
    # Then one sign-up is counted
    assert counted(capsys.readouterr().out) == {names.SIGN_UP: 1}


def test_a_registration_undone_counts_no_sign_up(capsys: pytest.CaptureFixture[str]) -> None:
    service = auth(FakeDirectory(), FakeProfiles(fail=True))
    with pytest.raises(ServiceUnavailable):
        service.register("a@example.com", "pw", "A")
    flush_metrics()
    assert counted(capsys.readouterr().out) == {}


def test_a_refused_sign_in_is_counted_and_still_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a directory that refuses the password
    directory = FakeDirectory()

    def refuse(email: str, password: str) -> IssuedTokens:
        raise Unauthorized("Wrong email or password.")

    directory.sign_in = refuse  # type: ignore[method-assign]
    # When someone signs in twice
    for _ in range(2):
        with pytest.raises(Unauthorized):
            auth(directory).login("a@example.com", "wrong")
    flush_metrics()
    # Then two sign-in failures are counted
    assert counted(capsys.readouterr().out) == {names.SIGN_IN_FAILED: 2}


class FakeWebhooks:
    def get_with_secret(self, webhook_id: str) -> tuple[Any, str]:
        from catalog.webhooks.schemas import Webhook

        hook = Webhook(
            id=webhook_id,
            url="https://hooks.example.com/in",
            events=["product.created"],
            description="",
            active=True,
            created_at="2026-01-01T00:00:00Z",
            updated_at="2026-01-01T00:00:00Z",
        )
        return hook, "secret"

    def record_delivery(self, *args: Any) -> None:
        pass


class FakeSqs:
    def __init__(self) -> None:
        self.delays: list[int] = []

    def change_message_visibility(self, **request: Any) -> None:
        self.delays.append(request["VisibilityTimeout"])


@pytest.fixture
def delivery(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, FakeSqs]]:
    monkeypatch.setenv("QUEUE_WEBHOOK_DELIVERIES", "https://sqs.local/queue")
    module = load_handler("webhook_delivery", "_webhook_delivery_handler_test")
    sqs = FakeSqs()
    monkeypatch.setattr(module, "repository", FakeWebhooks())
    monkeypatch.setattr(module, "_sqs", lambda: sqs)
    yield module, sqs


def sqs_event(*attempts: int) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{n}",
                "receiptHandle": f"r{n}",
                "body": json.dumps(
                    {"webhook_id": "w1", "event": {"id": f"e{n}", "type": "product.created"}}
                ),
                "attributes": {"ApproximateReceiveCount": str(attempt)},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:deliveries",
            }
            for n, attempt in enumerate(attempts)
        ]
    }


class Context:
    function_name = "webhook-delivery"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:webhook-delivery"
    aws_request_id = "req-1"


def test_webhook_deliveries_count_successes_retries_and_failures(
    delivery: tuple[ModuleType, FakeSqs],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    module, sqs = delivery
    # Given a receiver that accepts the first event and refuses the others
    answers = iter([Attempt(True, 204, 5, None), Attempt(False, 500, 5, "HTTP 500")] * 2)
    monkeypatch.setattr(module, "post", lambda url, body, headers: next(answers))
    # When a batch of a first attempt, a third attempt, and a second and a fourth arrives
    # (answered: ok, failed, ok, failed)
    answer = module.lambda_handler(sqs_event(1, 3, 2, 4), Context())
    # Then two deliveries, two failures (both rescheduled) and three retries are counted
    assert counted(capsys.readouterr().out) == {
        names.WEBHOOK_DELIVERED: 2,
        names.WEBHOOK_DELIVERY_FAILED: 2,
        names.WEBHOOK_RETRIED: 3,
    }
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == ["m1", "m3"]
    assert len(sqs.delays) == 2
