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


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"price": 1e2}', "numbers must be written without an exponent"),
        ('{"price": 1.5E+1}', "numbers must be written without an exponent"),
        ('{"stock": ' + "9" * 5000 + "}", "number too long (at most 100 characters)"),
        ('{"price": 0.' + "1" * 200 + "}", "number too long (at most 100 characters)"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply (at most 32 levels)"),
        ("[" * 33 + "]" * 33, "nested too deeply (at most 32 levels)"),
        ('{"name": "bad \ufffd"}', "it is not valid UTF-8 text"),
        ('{"name": "bad \\ufffd"}', "it is not valid UTF-8 text"),  # the escape
        ('{"name": "half a pair \\ud83d"}', "it is not valid UTF-8 text"),
        ('{"\\udc00": 1}', "it is not valid UTF-8 text"),
        ('["x", ["\\udfff"]]', "it is not valid UTF-8 text"),
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ("{", "Expecting property name enclosed in double quotes at line 1, column 2"),
    ],
)
def test_refusals_are_worded_by_us(text: str, reason: str) -> None:
    # When a body the API does not take is parsed
    with pytest.raises(json.JSONDecodeError) as caught:
        loads_request(text)
    # Then the reason is ours: no parser internals, no input quoted whole
    assert caught.value.msg.startswith(reason)
    assert "recursion" not in caught.value.msg and "4300" not in caught.value.msg


def test_a_duplicate_key_is_quoted_short() -> None:
    # Given a body repeating a 20 KB key
    key = json.dumps("k" * 20_000)
    # When it is parsed
    with pytest.raises(json.JSONDecodeError) as caught:
        loads_request(f"{{{key}: 1, {key}: 2}}")
    # Then the refusal quotes only the key's start
    assert caught.value.msg == f"duplicate key {'k' * 40 + chr(0x2026)!r}"


def test_text_that_is_valid_utf_8_passes() -> None:
    # Given keys and strings in several scripts, an emoji written as a surrogate pair escape
    text = '{"name": "Cr\u00e8me \u6f22\u5b57 \\ud83d\\ude00", "\u00e9": ["\u00fc"]}'
    # When the body is parsed
    parsed = loads_request(text)
    # Then it reads as sent, the pair joined into one character
    assert parsed == {"name": "Cr\u00e8me \u6f22\u5b57 \U0001f600", "\u00e9": ["\u00fc"]}


def test_the_deepest_body_the_api_takes_parses() -> None:
    nested = "[" * 32 + "]" * 32
    assert loads_request(nested) is not None


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
