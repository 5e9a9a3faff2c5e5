"""The local API Gateway: connections, routing, the Cognito authorizer, its own answers."""

from __future__ import annotations

import socket
import socketserver
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from catalog.core.errors import CatalogError, NotReady, Unauthorized
from catalog.http.problems import problem
from catalog.identity.principal import bearer_token, verify_signed_token
from infra import gateway_responses
from infra.local.gateway.protocol import CONTINUE, Limits, Reader, response_bytes
from infra.local.gateway.proxy import decode_path, proxy_event, proxy_result
from infra.local.gateway.request import Ended, Refused, Request
from infra.local.gateway.routes import ANY, GatewayRoute, match, route_table, specificity
from infra.local.gateway.throttle import Throttles, route_throttles
from infra.stages import Stage, stage as stage_config

# How long a closing connection still reads what the client sends: closing a socket with
# unread data resets the connection, and the client could lose the answer (a 413, say).
LINGER_S = 2.0
# The health route answers 503 until the runner says it is ready (`LocalGateway.ready`).
HEALTH_PATH = "/v1/health"


class Invocable(Protocol):
    """What the gateway needs of a function (infra.local.functions.LocalFunction)."""

    def invoke(self, event: dict[str, Any]) -> Any: ...


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # bursts of parallel clients, as API Gateway would accept


class LocalGateway:
    def __init__(
        self,
        functions: Mapping[str, Invocable],
        stage: str,
        host: str,
        port: int,
        *,
        limits: Limits | None = None,
        config: Stage | None = None,
        throttling: bool = True,
        ready: threading.Event | None = None,
    ) -> None:
        self.functions = functions
        # Set once the runner's start-up writes are done (`make run`: demo users with their
        # roles, seed data). Until then every other route serves (the seeding itself goes
        # through them), and health answers 503 so that a client waiting for it never
        # meets a half-seeded system. None: ready from the start.
        self.ready = ready
        self.stage = stage
        self.config = config or stage_config(stage)  # its CORS and HSTS settings
        self.limits = limits or Limits()
        self.routes = sorted(route_table(), key=specificity)
        # The stage's limits per method, as API Gateway applies them (throttle.py).
        self.throttles = Throttles(self.config, route_throttles()) if throttling else None
        handler = type("Handler", (_Connection,), {"gateway": self})
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

    def respond(self, request: Request, client_ip: str) -> Answer:
        """What API Gateway answers: its own response (404, 401, 400...) or the function's."""
        path, _, query = request.target.partition("?")
        try:
            raw_path = decode_path(path)
            matched = match(self.routes, request.method, raw_path)
            if matched is None:
                return self.answer("MISSING_AUTHENTICATION_TOKEN", request)
            route, params = matched
            if self.ready is not None and not self.ready.is_set() and _is_health(route, request):
                return self.answer("DEFAULT_5XX", request, STARTING)
            if self.throttles is not None and not self.throttles.allow(route):
                return self.answer("THROTTLED", request)
            claims: dict[str, str] | None = None
            if route.authorized:
                claims = _authorize(request.header("Authorization"))
                if claims is None:
                    return self.answer("UNAUTHORIZED", request)
            event = proxy_event(
                route,
                params,  # matched on the decoded path: decoded once, as API Gateway does
                request.method,
                raw_path,
                query,
                request.headers,
                request.body,
                client_ip,
                self.stage,
                claims,
            )
        except Refused as refused:
            return self.answer(refused.response_type, request, refused.error)
        try:
            result = self.functions[route.function].invoke(event)
        except Exception:  # the function crashed outside its own error handling
            # Lambda would write the crash to the function's log: so does the local runner.
            traceback.print_exc(file=sys.stderr)
            return self.answer("DEFAULT_5XX", request)
        answered = proxy_result(result)
        if answered is None:  # API Gateway: "Malformed Lambda proxy response"
            return self.answer("DEFAULT_5XX", request)
        status, headers, body = answered
        return Answer(status, headers, body)

    def answer(
        self, response_type: str, request: Request | None, error: CatalogError | None = None
    ) -> Answer:
        """A gateway response: `response_type`'s headers, with `error`'s problem (by default
        the type's own)."""
        error = error or gateway_responses.GATEWAY_RESPONSES[response_type]
        headers: dict[str, str] = {}
        for name, value in gateway_responses.headers(response_type, self.config).items():
            if isinstance(value, gateway_responses.FromRequest):
                copied = request.header(value.header) if request is not None else None
                if copied is None:
                    continue  # as API Gateway, which leaves out a header it has no value for
                value = copied
            headers[name] = value
        headers.update(error.headers())
        return Answer(error.status, list(headers.items()), str(problem(error).body).encode())


STARTING = NotReady("The catalog is starting (demo users and data); retry shortly.")


def _is_health(route: GatewayRoute, request: Request) -> bool:
    return route.path == HEALTH_PATH and request.method in ("GET", "HEAD")


def _authorize(header: str | None) -> dict[str, str] | None:
    """The Cognito authorizer: verify the bearer token, or refuse (None)."""
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


class _Connection(socketserver.BaseRequestHandler):
    """One client connection: requests read and answered in turn until one closes it."""

    gateway: LocalGateway
    request: socket.socket

    def handle(self) -> None:
        reader = Reader(self.request, self.gateway.limits)
        try:
            while self._serve_one(reader):
                pass
        except OSError:
            pass  # the client went away (or stopped reading) mid-answer: nothing to tell it
        except Exception:  # a fault of the gateway's own: logged, and the connection closed
            traceback.print_exc(file=sys.stderr)
        self._linger()

    def _serve_one(self, reader: Reader) -> bool:
        """Read and answer one request; whether the connection stays open for another."""
        request: Request | None = None
        try:
            request = reader.read_head()
            if request.expects_continue:
                self.request.sendall(CONTINUE)
            request.body = reader.read_body(request)
            answer = self.gateway.respond(request, self.client_address[0])
            close = not request.keep_alive
        except Ended:
            return False
        except Refused as refused:
            # Closed after: where the next request would start cannot be trusted.
            answer = self.gateway.answer(refused.response_type, request, refused.error)
            close = True
        except OSError:
            raise
        except Exception:  # a fault of the gateway's own: logged and answered, never a hang-up
            traceback.print_exc(file=sys.stderr)
            answer, close = self.gateway.answer("DEFAULT_5XX", request), True
        self._send(answer, request, close=close)
        return not close

    def _send(self, answer: Answer, request: Request | None, *, close: bool) -> None:
        headers = answer.headers
        if not any(name.lower() == "x-amzn-requestid" for name, _ in headers):
            headers = [*headers, ("x-amzn-RequestId", str(uuid.uuid4()))]
        head = request is not None and request.method == "HEAD"
        # A client that does not read its answer holds the connection for a bounded time.
        self.request.settimeout(self.gateway.limits.body_timeout_s)
        self.request.sendall(
            response_bytes(answer.status, headers, answer.body, head=head, close=close)
        )

    def _linger(self) -> None:
        try:
            self.request.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER_S
            while (remaining := deadline - time.monotonic()) > 0:
                self.request.settimeout(remaining)
                if not self.request.recv(65536):
                    break
        except OSError:
            pass


def describe(gateway: LocalGateway) -> str:
    rows = sorted((r.path, r.method, r.function) for r in gateway.routes if r.method != ANY)
    return "\n".join(f"  {method:<7} {path:<24} -> {fn}" for path, method, fn in rows)
