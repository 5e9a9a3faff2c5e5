"""The local API Gateway: the server, its Cognito authorizer and its own answers."""

from __future__ import annotations

import base64
import sys
import threading
import traceback
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from catalog.core.errors import Unauthorized
from catalog.identity.principal import bearer_token, verify_signed_token
from infra import gateway_responses
from infra.local.functions import LocalFunction
from infra.local.gateway.events import proxy_event
from infra.local.gateway.routes import ANY, GatewayRoute, match, route_table, specificity

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # bursts of parallel clients, as API Gateway would accept


class LocalGateway:
    def __init__(
        self, functions: Mapping[str, LocalFunction], stage: str, host: str, port: int
    ) -> None:
        self.functions = functions
        self.stage = stage
        self.routes = sorted(route_table(), key=specificity)
        handler = type("Handler", (_RequestHandler,), {"gateway": self})
        self.server = _Server((host, port), handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://{name}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def match(self, method: str, path: str) -> tuple[GatewayRoute, dict[str, str]] | None:
        return match(self.routes, method, path)


class _RequestHandler(BaseHTTPRequestHandler):
    gateway: LocalGateway
    protocol_version = "HTTP/1.1"
    server_version = "catalog-local-gateway"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the functions log every request as JSON already

    def _serve(self) -> None:
        split = urlsplit(self.path)
        raw_path = unquote(split.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self._answer_gateway("REQUEST_TOO_LARGE")
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        matched = self.gateway.match(self.command, raw_path)
        if matched is None:
            self._answer_gateway("MISSING_AUTHENTICATION_TOKEN")
            return
        route, params = matched
        claims: dict[str, str] | None = None
        if route.authorized:
            claims = self._authorize()
            if claims is None:
                self._answer_gateway("UNAUTHORIZED")
                return
        event = proxy_event(
            route,
            {k: unquote(v) for k, v in params.items()},
            self.command,
            raw_path,
            split.query,
            list(self.headers.items()),
            body,
            self.client_address[0],
            self.gateway.stage,
            claims,
        )
        try:
            result = self.gateway.functions[route.function].invoke(event)
            self._answer_proxy_result(result)
        except Exception:  # the function crashed outside its own error handling
            # Lambda would write the crash to the function's log: so does the local runner.
            traceback.print_exc(file=sys.stderr)
            self._answer_gateway("DEFAULT_5XX")

    def _authorize(self) -> dict[str, str] | None:
        """The Cognito authorizer: verify the bearer token, or refuse (None)."""
        header = self.headers.get("Authorization")
        if not header:
            return None
        try:
            token = bearer_token({"Authorization": header})
            claims = verify_signed_token(token) if token else None
        except Unauthorized:
            return None
        if claims is None:
            return None
        # API Gateway hands claims to REST integrations as strings; lists comma-joined.
        return {
            name: ",".join(map(str, value)) if isinstance(value, list) else str(value)
            for name, value in claims.items()
        }

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def _answer_gateway(self, response_type: str) -> None:
        status = gateway_responses.GATEWAY_RESPONSES[response_type].status
        payload = gateway_responses.body(response_type).encode()
        headers = {
            name: [value]
            for name, value in gateway_responses.headers(response_type).items()
            if isinstance(value, str)  # a stage allowing several origins: no echo here yet
        }
        self._write(status, headers, payload)

    def _answer_proxy_result(self, result: Any) -> None:
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            self._answer_gateway("DEFAULT_5XX")  # API Gateway: "Malformed Lambda proxy response"
            return
        headers: dict[str, list[str]] = {}
        for name, value in (result.get("headers") or {}).items():
            headers[name] = [str(value)]
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = [str(v) for v in values]
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        self._write(result["statusCode"], headers, payload)

    def _write(self, status: int, headers: dict[str, list[str]], payload: bytes) -> None:
        self.send_response(status)
        headers.setdefault("x-amzn-RequestId", [str(uuid.uuid4())])
        for name, values in headers.items():
            if name.lower() in ("content-length", "connection", "transfer-encoding"):
                continue
            for value in values:
                self.send_header(name, value)
        self.send_header("Content-Length", str(0 if self.command == "HEAD" else len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)


def describe(gateway: LocalGateway) -> str:
    rows = sorted((r.path, r.method, r.function) for r in gateway.routes if r.method != ANY)
    return "\n".join(f"  {method:<7} {path:<24} -> {fn}" for path, method, fn in rows)
