"""A refused webhook URL is a 422 at registration (schema or service) and a refused attempt
at delivery, before anything connects."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
from aws_lambda_powertools.event_handler.openapi.params import Body

from catalog.core.errors import ValidationFailed
from catalog.http.api import Api
from catalog.http.problems import problem
from catalog.http.routes import Route
from catalog.identity.access import PUBLIC
from catalog.webhooks import delivery, urls
from catalog.webhooks.schemas import Webhook, WebhookCreate, WebhookPatch
from catalog.webhooks.service import WebhookService
from tests.sockets import patch_socket

app = Api(
    [
        Route("POST", "/hooks", "test", "register_hook", PUBLIC),
        Route("PATCH", "/hooks", "test", "change_hook", PUBLIC),
    ]
)


@app.operation()
def register_hook(body: Annotated[WebhookCreate, Body()]) -> dict[str, Any]:
    return {"url": body.url}


@app.operation()
def change_hook(body: Annotated[WebhookPatch, Body()]) -> dict[str, Any]:
    return {"url": body.url}


handler = app.handler()


@pytest.fixture(autouse=True)
def cloud_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules of a cloud stage, whatever an earlier test on this worker left in the
    environment (the local system sets WEBHOOK_ALLOW_LOCAL_URLS=true for its functions)."""
    monkeypatch.setenv("WEBHOOK_ALLOW_LOCAL_URLS", "false")


class Context:
    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-1"


def send(method: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    event = {
        "httpMethod": method,
        "path": "/hooks",
        "resource": "/hooks",
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
        "requestContext": {"requestId": "req-1", "path": "/hooks", "stage": "test"},
    }
    response = handler(event, Context())
    return int(response["statusCode"]), json.loads(response["body"])


class Repository:
    """Webhooks in memory: what the service stores, nothing else."""

    def __init__(self) -> None:
        self.stored: dict[str, Webhook] = {}

    def create(self, webhook: Webhook, secret: str) -> None:
        self.stored[webhook.id] = webhook

    def get(self, webhook_id: str) -> Webhook:
        return self.stored[webhook_id]

    def replace(self, webhook: Webhook) -> None:
        self.stored[webhook.id] = webhook


@pytest.fixture
def resolves_to(monkeypatch: pytest.MonkeyPatch) -> Any:
    def set_addresses(*addresses: str) -> None:
        def fake(host: str, port: int, **kwargs: Any) -> list[Any]:
            return [(2, 1, 6, "", (a, port)) for a in addresses]

        patch_socket(monkeypatch, urls, getaddrinfo=fake)

    return set_addresses


@pytest.fixture
def no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a refused URL was connected to")

    patch_socket(monkeypatch, delivery, create_connection=refuse)


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://hooks.example.com/in hook", "a space"),
        ("https://hooks.example.com/in\r\nX-Injected: 1", "a CR"),
        ("https://hooks.example.com/in\x00", "a NUL"),
        ("https://hooks.example.com/%69n", "%69 encodes 'i'"),
        ("https://user:pw@hooks.example.com/in", "credentials"),
        ("https://[::ffff:169.254.169.254]/", "in hexadecimal"),
        ("http://hooks.example.com/in", "https://"),
    ],
)
def test_a_non_canonical_url_is_a_422_from_the_schema(method: str, url: str, reason: str) -> None:
    # Given a webhook body whose URL is not canonical
    body = {"url": url, "events": ["product.created"]} if method == "POST" else {"url": url}
    # When it is sent
    status, answer = send(method, body)
    # Then it is a 422 problem pointing at the URL, with the reason and a stable type
    assert status == 422
    assert answer["type"] == "urn:catalog:problem:validation-error"
    [error] = answer["errors"]
    assert (error["in"], error["pointer"], error["type"]) == ("body", "#/url", "refused_url")
    assert reason in error["detail"]


def test_a_huge_refused_url_is_not_echoed_back() -> None:
    # Given a 2,000-character URL with a space at its end
    url = "https://hooks.example.com/" + "x" * 1970 + " "
    # When it is registered
    status, answer = send("POST", {"url": url, "events": ["product.created"]})
    # Then the answer quotes none of it
    assert status == 422
    assert "x" * 100 not in json.dumps(answer)


def test_a_canonical_url_passes_the_schema_without_any_lookup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given no DNS (the schema checks the form; the service looks up the host)
    patch_socket(monkeypatch, urls, getaddrinfo=lambda *a, **k: pytest.fail("looked up"))
    # When a canonical URL is sent
    status, answer = send(
        "POST", {"url": "https://hooks.example.com/in", "events": ["product.created"]}
    )
    # Then the body is taken
    assert (status, answer) == (200, {"url": "https://hooks.example.com/in"})


@pytest.mark.parametrize("address", ["64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::", "192.0.0.8"])
def test_a_host_of_a_non_public_address_is_a_422_from_the_service(
    address: str, resolves_to: Any
) -> None:
    # Given a canonical URL whose host resolves to a non-public address
    resolves_to(address)
    service = WebhookService(Repository())  # type: ignore[arg-type]
    body = WebhookCreate(url="https://hooks.example.com/in", events=["product.created"])
    # When it is registered
    with pytest.raises(ValidationFailed) as refused:
        service.create(body)
    # Then the problem is a 422 pointing at the URL, typed refused_url
    answer = json.loads(problem(refused.value).body)
    assert answer["status"] == 422
    assert answer["errors"][0]["pointer"] == "#/url"
    assert answer["errors"][0]["type"] == "refused_url"
    assert "non-public" in answer["detail"]


def test_changing_the_url_to_a_non_public_host_is_refused(resolves_to: Any) -> None:
    # Given a registered webhook
    resolves_to("93.184.215.14")
    repository = Repository()
    service = WebhookService(repository)  # type: ignore[arg-type]
    created = service.create(
        WebhookCreate(url="https://hooks.example.com/in", events=["product.created"])
    )
    # When its URL changes to a host of the metadata service behind NAT64
    resolves_to("64:ff9b::a9fe:a9fe")
    with pytest.raises(ValidationFailed):
        service.update(created.id, WebhookPatch(url="https://moved.example.com/in"))
    # Then the stored URL is unchanged
    assert repository.stored[created.id].url == "https://hooks.example.com/in"


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/in hook",  # stored before the canonical rule
        "https://hooks.example.com/in\r\nX-Injected: 1",
        "https://hooks.example.com:443/in",
    ],
)
def test_a_stored_non_canonical_url_is_refused_before_each_delivery(
    url: str, no_connection: None, resolves_to: Any
) -> None:
    # Given a webhook stored with a URL the canonical rule refuses
    resolves_to("93.184.215.14")
    # When a delivery is attempted
    attempt = delivery.post(url, b"{}", {})
    # Then it fails as refused, without connecting
    assert not attempt.ok and attempt.status_code is None
    assert str(attempt.error).startswith("refused: ")


def test_a_host_now_resolving_to_nat64_metadata_is_refused_at_delivery(
    no_connection: None, resolves_to: Any
) -> None:
    # Given a webhook whose host resolves, by the time of delivery, to NAT64 metadata
    resolves_to("64:ff9b::a9fe:a9fe")
    # When a delivery is attempted
    attempt = delivery.post("https://hooks.example.com/in", b"{}", {})
    # Then it is refused, without connecting
    assert attempt.error == "refused: the host 'hooks.example.com' resolves to a non-public address"
