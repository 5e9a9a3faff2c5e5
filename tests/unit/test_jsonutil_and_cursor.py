"""Strict JSON parsing of request bodies and tamper-evident cursors."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from catalog.core import cursor, settings
from catalog.core.cursor import decode_cursor, encode_cursor
from catalog.core.errors import InvalidCursor
from catalog.core.jsonutil import loads_request


def test_numbers_with_fractions_become_decimals_never_floats() -> None:
    parsed = loads_request('{"price": 19.99, "stock": 3}')
    assert parsed == {"price": Decimal("19.99"), "stock": 3}
    assert isinstance(parsed["price"], Decimal)


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', '{"a": 1, "a": 2}', "{"])
def test_unsafe_or_broken_json_is_a_decode_error(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        loads_request(text)


def test_a_cursor_round_trips(signing_key: None) -> None:
    position = {"q": "products:newest", "after": "01J0000000000000000000000A"}
    assert decode_cursor(encode_cursor(position)) == position


def test_a_cursor_reveals_no_plain_text_key_order(signing_key: None) -> None:
    token = encode_cursor({"after": "X"})
    assert "after" not in token


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: ("e" if t[0] != "e" else "f") + t[1:],  # payload changed
        lambda t: t.replace(".", ""),
        lambda t: t + ".x",
        lambda t: "not a cursor",
        lambda t: "x" * 2000,
        lambda t: "!!!.???",
    ],
)
def test_a_tampered_cursor_is_refused(signing_key: None, tamper: object) -> None:
    token = encode_cursor({"q": "products:newest", "after": "01J0000000000000000000000A"})
    with pytest.raises(InvalidCursor):
        decode_cursor(tamper(token))  # type: ignore[operator]


def test_a_cursor_signed_with_another_key_is_refused(
    signing_key: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = encode_cursor({"after": "X"})
    monkeypatch.setenv("CURSOR_SIGNING_KEY", "another-key")
    settings.settings.cache_clear()
    cursor._signing_key.cache_clear()
    with pytest.raises(InvalidCursor):
        decode_cursor(token)
