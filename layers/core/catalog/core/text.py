"""Input hygiene for free text (NFC, trimmed, no hidden characters) and bounded quotes of input.

The one rule of what text the API accepts; every schema's text fields use it. Refused:

- in every text field: C0/C1 controls and DEL (NUL included; multi-line text keeps newline
  and tab); bidi controls U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069; U+FFFD and
  lone surrogates (signs of a request that was not valid UTF-8);
- in one-line fields also: every other format (Cf) character of the runtime's Unicode
  database: zero-width U+200B-U+200D, word joiner and invisible operators U+2060-U+2064,
  U+FEFF, soft hyphen U+00AD, U+206A-U+206F, tags U+E0001 and U+E0020-U+E007F, Arabic
  and other number signs...; the Hangul fillers U+115F, U+1160, U+3164, U+FFA0 (letters
  drawn as nothing); the line and paragraph separators U+2028, U+2029.

Bidi controls reorder what a reader sees (a name shown as "exe.jpg" that is "gpj.exe");
invisible characters make two different names look the same. So emoji joined with ZWJ
(U+200D) and tag sequences (subdivision flags) cannot appear in one-line fields.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# C0 and C1 control characters (NUL included) and DEL. Newline and tab are allowed only
# where a field opts in (descriptions).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_NEWLINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
# Evidence that the request was not valid UTF-8 (a decoder's replacement character) or that
# a JSON escape named half a surrogate pair: never text a person meant.
_MISDECODED = re.compile("[\ufffd\ud800-\udfff]")
HANGUL_FILLERS = "\u115f\u1160\u3164\uffa0"
_INVISIBLE_LETTERS = re.compile(f"[{HANGUL_FILLERS}\u2028\u2029]")

QUOTE_LIMIT = 100  # characters of a caller's input an error message may quote
MESSAGE_LIMIT = 300  # characters of any message built around such a quote
_QUOTED = re.compile(f"'([^']{{{QUOTE_LIMIT}}})[^']+'|\"([^\"]{{{QUOTE_LIMIT}}})[^\"]+\"")


def _code_point(character: str) -> str:
    return f"U+{ord(character):04X}"


def misdecoded(value: str) -> bool:
    """Whether `value` holds U+FFFD or a lone surrogate: it was not valid UTF-8."""
    return _MISDECODED.search(value) is not None


def _refuse_misdecoded(value: str) -> None:
    found = _MISDECODED.search(value)
    if found:
        raise ValueError(
            f"must be valid UTF-8 text ({_code_point(found.group())} is a sign it was not)"
        )


def _refuse_bidi(value: str) -> None:
    found = _BIDI.search(value)
    if found:
        raise ValueError(f"must not contain bidirectional controls ({_code_point(found.group())})")


def invisible_character(value: str) -> str | None:
    """The first character of `value` that one-line text refuses as invisible, if any."""
    found = _INVISIBLE_LETTERS.search(value)
    if found:
        return found.group()
    if value.isascii():  # the common case: no format character can be there
        return None
    return next((c for c in value if unicodedata.category(c) == "Cf"), None)


def clean_line(value: str) -> str:
    """One line of text: NFC-normalized, trimmed, no control, bidi or invisible characters."""
    _refuse_misdecoded(value)  # before NFC, which could not repair it anyway
    value = unicodedata.normalize("NFC", value).strip()
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    _refuse_bidi(value)
    hidden = invisible_character(value)
    if hidden is not None:
        raise ValueError(f"must not contain invisible characters ({_code_point(hidden)})")
    return value


def clean_multiline(value: str) -> str:
    """Free text that may span lines (newlines and tabs allowed, other controls not)."""
    _refuse_misdecoded(value)
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").strip()
    if _CONTROL_BUT_NEWLINES.search(value):
        raise ValueError("must not contain control characters other than newlines and tabs")
    _refuse_bidi(value)
    return value


def excerpt(value: str, limit: int = QUOTE_LIMIT) -> str:
    """At most `limit` characters of a caller's input, to quote in a message."""
    return value if len(value) <= limit else value[:limit] + "\u2026"


def bounded(message: str) -> str:
    """`message` with every quoted span cut to `QUOTE_LIMIT` characters, and at most
    `MESSAGE_LIMIT` in all: no error answer hands a caller's long input back."""
    shortened = _QUOTED.sub(
        lambda m: f"'{m.group(1)}\u2026'" if m.group(1) else f'"{m.group(2)}\u2026"', message
    )
    return excerpt(shortened, MESSAGE_LIMIT)


# --- the same rule, as a JSON Schema pattern (for the OpenAPI document) ----------------------


def _refused_characters(multiline: bool) -> list[str]:
    """Every character a field of this kind refuses, wherever it stands (see the docstring)."""
    refused = {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))}
    if multiline:
        refused -= {"\t", "\n"}  # and "\r" only as part of "\r\n" (the pattern says so)
    # Lone surrogates are refused too, but not written here: JSON text and URLs carry
    # Unicode scalar values (RFC 8259 section 8.2, I-JSON), the strict body parser refuses a
    # lone `\udXXX` escape before any schema is read, and a validator over scalar values
    # (Rust's regex in jsonschema-rs, Go's RE2) refuses a pattern that names them.
    refused |= set(BIDI_CONTROLS) | {"\ufffd"}
    if not multiline:
        refused |= set(HANGUL_FILLERS) | {"\u2028", "\u2029"}
        refused |= {chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"}
    return sorted(refused)


def _character_class(characters: list[str]) -> str:
    """`characters` as the inside of a regex class, in ranges within the BMP; each one above
    it on its own, so that an ECMAScript engine without the `u` flag (which reads it as two
    UTF-16 units) still compiles the class (a range of surrogate pairs would be reversed)."""
    bmp = [c for c in characters if ord(c) < 0x10000]
    return _ranges(bmp) + "".join(c for c in characters if ord(c) >= 0x10000)


def _ranges(characters: list[str]) -> str:
    parts: list[str] = []
    codes = [ord(c) for c in characters]
    start = previous = codes[0]
    for code in [*codes[1:], -1]:
        if code == previous + 1:
            previous = code
            continue
        first, last = _class_character(start), _class_character(previous)
        parts.append(first if start == previous else f"{first}-{last}")
        start = previous = code
    return "".join(parts)


def _class_character(code: int) -> str:
    return f"\\u{code:04x}"


def refused_class(*, multiline: bool = False) -> str:
    """The inside of a regex class of the characters a field of this kind refuses."""
    return _character_class(_refused_characters(multiline))


def text_pattern(*, multiline: bool = False, required: bool = False) -> str:
    """A JSON Schema pattern of the text this module accepts: none of the refused characters
    (multi-line text: "\\r" only before "\\n"), and with `required` one character that is
    not white space (the rest is trimmed). Built only when a document is generated."""
    refused = refused_class(multiline=multiline)
    allowed = f"(?:[^{refused}\\r]|\\r\\n)" if multiline else f"[^{refused}]"
    if not required:
        return f"^{allowed}*$"
    visible = f"[^{refused}\\s]" if not multiline else f"[^{refused}\\r\\s]"
    return f"^{allowed}*{visible}{allowed}*$"


class TextRule:
    """Annotated metadata that writes the text rule into a field's JSON schema as a pattern.

    It validates nothing (`clean_line` and `clean_multiline` do); pydantic calls it only to
    build a JSON schema, so no function's init pays for the pattern.
    """

    def __init__(
        self, *, multiline: bool = False, required: bool = False, pattern: str | None = None
    ) -> None:
        self.multiline = multiline
        self.required = required
        self.pattern = pattern  # a pattern of its own, where "{refused}" is the class

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema: dict[str, Any] = handler(core_schema)
        if self.pattern is not None:
            schema["pattern"] = self.pattern.replace("{refused}", refused_class())
        else:
            schema["pattern"] = text_pattern(multiline=self.multiline, required=self.required)
        return schema
