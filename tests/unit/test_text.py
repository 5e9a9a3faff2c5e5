"""The one rule of text fields (catalog.core.text): what one-line and multi-line text refuse."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from catalog.core.text import (
    BIDI_CONTROLS,
    HANGUL_FILLERS,
    bounded,
    clean_line,
    clean_multiline,
    excerpt,
)

FORMAT_CHARACTERS = [
    chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"
]
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


@pytest.mark.parametrize("character", list(BIDI_CONTROLS))
def test_bidi_controls_are_refused_in_every_text(character: str) -> None:
    # Given a text that reorders what follows the control
    text = f"photo{character}gpj.exe"
    # When it is a one-line or a multi-line field
    # Then it is refused, naming the character by its code point
    for clean in (clean_line, clean_multiline):
        with pytest.raises(ValueError, match=f"bidirectional controls \\(U\\+{ord(character):04X}"):
            clean(text)


def test_every_format_character_is_refused_in_one_line_text() -> None:
    # Given every format (Cf) character of this runtime's Unicode database, ZWJ, soft hyphen,
    # tags, invisible operators and bidi controls among them
    assert set(ZERO_WIDTH + BIDI_CONTROLS + "\u00ad\U000e0041") <= set(FORMAT_CHARACTERS)
    for character in FORMAT_CHARACTERS:
        # When one stands inside a name
        # Then the name is refused
        with pytest.raises(ValueError):
            clean_line(f"mug{character}mug")


@pytest.mark.parametrize("character", list(ZERO_WIDTH + HANGUL_FILLERS + "\u2028\u2029"))
def test_invisible_characters_are_refused_in_one_line_text(character: str) -> None:
    with pytest.raises(ValueError, match=f"invisible characters \\(U\\+{ord(character):04X}"):
        clean_line(f"mug{character}cup")


@pytest.mark.parametrize("character", list(ZERO_WIDTH + HANGUL_FILLERS + "\u2028"))
def test_multi_line_text_keeps_zero_width_characters(character: str) -> None:
    # Given a description using a joiner (emoji sequences, Persian) or a separator
    text = f"family \U0001f468{character}\U0001f469"
    # When it is cleaned as multi-line text
    # Then it is kept
    assert clean_multiline(text) == text


@pytest.mark.parametrize("text", ["bad \ufffd bytes", "half \ud83d a pair", "lone \udfff"])
def test_signs_of_invalid_utf_8_are_refused_everywhere(text: str) -> None:
    for clean in (clean_line, clean_multiline):
        with pytest.raises(ValueError, match="valid UTF-8"):
            clean(text)


@pytest.mark.parametrize("text", ["a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\tb", "a\nb"])
def test_control_characters_are_refused_in_one_line_text(text: str) -> None:
    with pytest.raises(ValueError, match="control characters"):
        clean_line(text)


def test_multi_line_text_keeps_newlines_and_tabs_only() -> None:
    assert clean_multiline("one\r\n\ttwo") == "one\n\ttwo"
    with pytest.raises(ValueError, match="control characters"):
        clean_multiline("bell\x07")


@pytest.mark.parametrize(
    "text",
    [
        "Cr\u00e8me br\u00fbl\u00e9e torch",
        "\u6f22\u5b57 \u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd",  # RTL scripts
        "10\u00a0kg \u2013 \u201cquoted\u201d",  # no-break space, dashes, quotes
        "Mug \U0001f375\ufe0f",  # an emoji with its variation selector
        "na\u0308ive",  # a combining mark (NFC composes it)
    ],
)
def test_ordinary_text_of_any_script_is_accepted(text: str) -> None:
    assert clean_line(text) == unicodedata.normalize("NFC", text)


def test_one_line_text_is_trimmed_and_nfc_normalized() -> None:
    assert clean_line("  Cafe\u0301\u3000") == "Caf\u00e9"


def test_an_excerpt_keeps_at_most_its_limit() -> None:
    assert excerpt("short") == "short"
    assert excerpt("x" * 500) == "x" * 100 + "\u2026"


def test_a_bounded_message_cuts_long_quotes_and_its_length() -> None:
    # Given messages quoting a caller's 20 KB input
    quoted = f"{'x' * 20_000!r} is not a product id."
    plain = f"No product has the id {'y' * 20_000}."
    # When they are bounded
    # Then the quote keeps 100 characters, and no message exceeds 300
    assert bounded(quoted) == f"'{'x' * 100}\u2026' is not a product id."
    assert len(bounded(plain)) == 301
    # And a message quoting nothing long is unchanged
    assert bounded("Use 'Bearer <access token>'.") == "Use 'Bearer <access token>'."
