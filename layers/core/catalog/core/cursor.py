"""Opaque, tamper-evident pagination cursors.

A cursor is `base64url(json(position)) "." base64url(hmac_sha256(key, payload))`. Clients
cannot read meaning into it or forge one: any change answers 400 `invalid-cursor`. The key
comes from Secrets Manager (`CURSOR_SECRET_ID`) in every runtime, or from
`CURSOR_SIGNING_KEY` in unit tests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from functools import cache
from typing import Any

from catalog.core.errors import InvalidCursor
from catalog.core.settings import settings

MAX_CURSOR_LENGTH = 1024
# What `encode_cursor` makes, as the OpenAPI document states it for every `cursor`
# parameter; `decode_cursor` refuses anything else (400 invalid-cursor).
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"


@cache
def _signing_key() -> bytes:
    config = settings()
    if config.cursor_secret_id:
        from aws_lambda_powertools.utilities.parameters import get_secret

        return str(get_secret(config.cursor_secret_id, max_age=3600)).encode()
    if config.cursor_key_fallback:
        return config.cursor_key_fallback.encode()
    raise RuntimeError("set CURSOR_SECRET_ID (or CURSOR_SIGNING_KEY in tests)")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(payload: bytes) -> bytes:
    return hmac.new(_signing_key(), payload, hashlib.sha256).digest()


def encode_cursor(position: dict[str, Any]) -> str:
    payload = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(payload)}.{_b64(_sign(payload))}"


def decode_cursor(cursor: str) -> dict[str, Any]:
    invalid = InvalidCursor("The cursor is not one this API issued; start again without it.")
    if len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
        raise invalid
    payload_part, signature_part = cursor.split(".")
    try:
        payload = _unb64(payload_part)
        signature = _unb64(signature_part)
    except (binascii.Error, ValueError):
        raise invalid from None
    if not hmac.compare_digest(signature, _sign(payload)):
        raise invalid
    try:
        position = json.loads(payload)
    except ValueError:
        raise invalid from None
    if not isinstance(position, dict):
        raise invalid
    return position


def page_cursor(listing: str, after: str) -> str:
    """The cursor of the page after position `after` in `listing` (what it is bound to)."""
    return encode_cursor({"q": listing, "after": after})


def position_after(cursor: str | None, listing: str) -> str | None:
    """The position a cursor of `listing` continues after; None without a cursor.

    A cursor issued for another listing (other filters or order) is refused like a forged one.
    """
    if cursor is None:
        return None
    position = decode_cursor(cursor)
    after = position.get("after")
    if position.get("q") != listing or not isinstance(after, str):
        raise InvalidCursor("This cursor belongs to another listing; start again without it.")
    return after
