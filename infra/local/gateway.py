"""Local API Gateway: HTTP requests in, REST proxy events to the topology's functions, out.

It serves exactly the routes the topology declares (plus, like the CDK stack, an `ANY`
fallback per path so the owning function answers 405 and CORS preflight), builds events
the way API Gateway's Lambda proxy integration does, and answers with the same gateway
responses as the deployed API when no function is involved.
"""

from __future__ import annotations

import base64
import fnmatch
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from catalog.core.errors import Unauthorized
from catalog.identity.access import PUBLIC, Access
from catalog.identity.principal import bearer_token, verify_signed_token
from infra import gateway_responses, topology
from infra.local.functions import LocalFunction

ANY = "ANY"
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


@dataclass(frozen=True)
class GatewayRoute:
    method: str  # an HTTP method, or ANY
    path: str  # API Gateway template, e.g. /v1/products/{id}
    function: str
    pattern: re.Pattern[str]
    access: Access = PUBLIC

    @property
    def authorized(self) -> bool:
        """Whether the Cognito authorizer guards this method (as in the CDK stack)."""
        return not self.access.public


def _compile(path: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
    return re.compile(f"^{regex}$")


def route_table() -> list[GatewayRoute]:
    """Every (method, path) -> function this gateway serves, derived from the topology."""
    routes = [
        GatewayRoute(r.method, r.path, r.function, _compile(r.path), r.access)
        for r in topology.ROUTES
    ]
    routes += [
        GatewayRoute(ANY, path, owner, _compile(path)) for path, owner in topology.paths().items()
    ]
    return routes


def _specificity(route: GatewayRoute) -> tuple[int, int]:
    # API Gateway prefers literal path segments over {parameters}, then a method over ANY.
    literal = sum(1 for part in route.path.split("/") if part and not part.startswith("{"))
    return (-literal, 1 if route.method == ANY else 0)


def _split_headers(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def _is_binary(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";")[0].strip().lower()
    return any(fnmatch.fnmatch(media_type, p) for p in topology.BINARY_MEDIA_TYPES)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # bursts of parallel clients, as API Gateway would accept


class LocalGateway:
    def __init__(
        self, functions: Mapping[str, LocalFunction], stage: str, host: str, port: int
    ) -> None:
        self.functions = functions
        self.stage = stage
        self.routes = sorted(route_table(), key=_specificity)
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
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method in (method, ANY):
                return route, found.groupdict()
        return None

    def build_event(
        self,
        route: GatewayRoute,
        path_parameters: dict[str, str],
        method: str,
        raw_path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        client_ip: str,
        claims: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A REST API Lambda proxy event, as API Gateway builds it."""
        single, multi = _split_headers(headers)
        query_pairs = parse_qsl(query, keep_blank_values=True)
        multi_query: dict[str, list[str]] = {}
        for name, value in query_pairs:
            multi_query.setdefault(name, []).append(value)
        content_type = next((v for k, v in single.items() if k.lower() == "content-type"), None)
        binary = _is_binary(content_type)
        text_body: str | None
        if not body:
            text_body = None
        elif binary:
            text_body = base64.b64encode(body).decode()
        else:
            text_body = body.decode("utf-8", "replace")
        now = time.time()
        request_id = str(uuid.uuid4())
        host = next((v for k, v in single.items() if k.lower() == "host"), "127.0.0.1")
        user_agent = next((v for k, v in single.items() if k.lower() == "user-agent"), None)
        resource = route.path
        return {
            "resource": resource,
            "path": raw_path,
            "httpMethod": method,
            "headers": single or None,
            "multiValueHeaders": multi or None,
            "queryStringParameters": dict(query_pairs) or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": "local",
                "resourcePath": resource,
                "httpMethod": method,
                "extendedRequestId": request_id,
                "requestTime": formatdate(now, usegmt=True),
                "path": raw_path,
                "accountId": "123456789012",
                "protocol": "HTTP/1.1",
                "stage": self.stage,
                "domainPrefix": host.split(":")[0],
                "requestTimeEpoch": int(now * 1000),
                "requestId": request_id,
                "identity": {"sourceIp": client_ip, "userAgent": user_agent},
                "domainName": host,
                "apiId": "local",
                **({"authorizer": {"claims": claims}} if claims is not None else {}),
            },
            "body": text_body,
            "isBase64Encoded": bool(text_body) and binary,
        }


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
        event = self.gateway.build_event(
            route,
            {k: unquote(v) for k, v in params.items()},
            self.command,
            raw_path,
            split.query,
            list(self.headers.items()),
            body,
            self.client_address[0],
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
            name: [value] for name, value in gateway_responses.headers(response_type).items()
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


__all__ = ["LocalGateway", "describe", "route_table"]
