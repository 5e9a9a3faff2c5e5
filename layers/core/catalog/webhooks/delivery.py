"""One webhook delivery: a signed POST to the checked address, and the retry schedule."""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import time
from dataclasses import dataclass

from catalog.events.signature import EVENT_ID_HEADER, HEADER, sign
from catalog.webhooks.urls import RefusedUrl, Target, resolve

USER_AGENT = "catalog-webhooks/1"
MAX_ERROR_LENGTH = 300
DEFAULT_DELAYS = (30, 120, 600, 1800, 3600, 7200, 14400)
MAX_VISIBILITY_S = 12 * 3600  # SQS's longest visibility timeout


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status_code: int | None
    duration_ms: int
    error: str | None


def retry_delays() -> tuple[int, ...]:
    raw = os.environ.get("WEBHOOK_RETRY_DELAYS", "")
    delays = tuple(int(part) for part in raw.split(",") if part.strip())
    return delays or DEFAULT_DELAYS


def retry_delay(attempt: int) -> int:
    """Seconds to wait before the attempt after `attempt` (1-based): growing, capped."""
    delays = retry_delays()
    return min(delays[min(attempt, len(delays)) - 1], MAX_VISIBILITY_S)


def timeout_s() -> float:
    return float(os.environ.get("WEBHOOK_TIMEOUT_S", "5"))


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a fixed address, verifying the certificate for the URL's host name."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def headers_for(
    secret: str, body: bytes, event_id: str, event_type: str, attempt: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        HEADER: sign(secret, body),
        EVENT_ID_HEADER: event_id,
        "Catalog-Event-Type": event_type,
        "Catalog-Delivery-Attempt": str(attempt),
    }


def post(url: str, body: bytes, headers: dict[str, str]) -> Attempt:
    """POST once; 2xx is success, anything else (redirects included) a failure."""
    started = time.monotonic()

    def done(ok: bool, status: int | None, error: str | None) -> Attempt:
        elapsed = int((time.monotonic() - started) * 1000)
        return Attempt(ok, status, elapsed, error[:MAX_ERROR_LENGTH] if error else None)

    try:
        target = resolve(url)
    except RefusedUrl as refused:
        return done(False, None, f"refused: {refused}")
    connection_type = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_type(target, timeout_s())
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)  # drain a little; the receiver's answer body is not kept
        status = response.status
    except TimeoutError:
        return done(False, None, f"timed out after {timeout_s():g} s")
    except (OSError, http.client.HTTPException) as error:
        return done(False, None, f"{type(error).__name__}: {error}")
    finally:
        connection.close()
    ok = 200 <= status < 300
    return done(ok, status, None if ok else f"answered {status}")
