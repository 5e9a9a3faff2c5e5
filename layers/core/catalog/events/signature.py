"""Webhook signatures: `Catalog-Signature: t=<unix time>,v1=<hex HMAC-SHA256>`.

The HMAC key is the webhook's signing secret (as text, UTF-8); the signed message is the
timestamp, a dot, and the exact request body: `f"{t}.{body}"`. Receivers verify with
`verify(secret, header, body, tolerance_s)`: it recomputes the HMAC over the raw body they
received, compares in constant time, and refuses timestamps further than `tolerance_s`
from now (replays). This module needs nothing but the standard library, so receivers can
copy it as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Catalog-Signature"
EVENT_ID_HEADER = "Catalog-Event-Id"
DEFAULT_TOLERANCE_S = 300


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def sign(secret: str, body: bytes | str, timestamp: int | None = None) -> str:
    """The `Catalog-Signature` header value for `body`, signed now (or at `timestamp`)."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={_digest(secret, moment, _bytes(body))}"


def verify(
    secret: str,
    header: str,
    body: bytes | str,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """Whether `header` signs exactly `body` with `secret`, within `tolerance_s` of now."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = _digest(secret, timestamp, _bytes(body))
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
