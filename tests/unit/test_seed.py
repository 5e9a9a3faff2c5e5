"""The demo seed's answers to what the API refuses: kept (409), left out and said (422),
stopped (anything else). Against a stub API, so each refusal is certain."""

from __future__ import annotations

import json
import threading
import urllib.error
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from infra.local.seed import DEMO_PRODUCTS, seed

Decide = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]]]


@pytest.fixture
def stub_api() -> Iterator[Callable[[Decide], str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(decide: Decide) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, answer = decide(self.path, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def problem(status: int, slug: str, detail: str) -> tuple[int, dict[str, Any]]:
    return status, {"type": f"urn:catalog:problem:{slug}", "status": status, "detail": detail}


def test_what_a_client_wrote_first_is_kept_and_what_its_data_forbids_is_left_out(
    stub_api: Callable[[Decide], str],
) -> None:
    # Given an API where a client already created `lighting` and the SKU LAMP-042, and
    # removed what the apparel product needs
    def decide(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body.get("slug") == "lighting":
            return problem(409, "conflict", "The slug is taken.")
        if body.get("sku") == "LAMP-042":
            return problem(409, "duplicate-sku", "Another product has this SKU.")
        if body.get("category") == "apparel":
            return problem(422, "validation-error", "No category 'apparel'.")
        return 201, {"id": f"id-{body.get('sku') or body.get('slug')}", **body}

    url = stub_api(decide)
    # When the seed runs
    report = seed(url, "admin-token", "editor-token")
    # Then it kept the client's, left out the product and said why, and created the rest
    assert report.kept == ["category lighting", "product LAMP-042"]
    assert report.left_out == ["product TEE-ORG-M: No category 'apparel'."]
    assert [p["sku"] for p in report.products] == ["MUG-001"]
    assert "left out product TEE-ORG-M" in report.summary()
    assert len(DEMO_PRODUCTS) == 3


@pytest.mark.parametrize(
    ("status", "slug"),
    [(401, "unauthorized"), (403, "forbidden"), (500, "internal-error"), (503, "not-ready")],
)
def test_a_refusal_no_client_data_explains_stops_the_seed(
    stub_api: Callable[[Decide], str], status: int, slug: str
) -> None:
    # Given an API that refuses the seed's own token, or fails
    url = stub_api(lambda path, body: problem(status, slug, "No."))
    # When the seed runs, then it stops with that error (make run stops, and says why)
    with pytest.raises(urllib.error.HTTPError) as raised:
        seed(url, "admin-token", "editor-token")
    assert raised.value.code == status
