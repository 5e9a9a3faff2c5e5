"""Input hygiene for free text: NFC, trimmed, no control characters or NUL."""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 control characters (NUL included) and DEL. Newline and tab are allowed only
# where a field opts in (descriptions).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_NEWLINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_line(value: str) -> str:
    """One line of text: NFC-normalized, trimmed, no control characters."""
    value = unicodedata.normalize("NFC", value).strip()
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def clean_multiline(value: str) -> str:
    """Free text that may span lines (newlines and tabs allowed, other controls not)."""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").strip()
    if _CONTROL_BUT_NEWLINES.search(value):
        raise ValueError("must not contain control characters other than newlines and tabs")
    return value
