"""Value types shared by every resource's schemas and storage."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer


def now_millis() -> datetime:
    """Now, in UTC, to the millisecond: what `iso_millis` writes, so a time read back
    equals the one written (every service's default clock)."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def iso_millis(moment: datetime) -> str:
    """UTC ISO 8601 with milliseconds and `Z`, as the API writes and DynamoDB stores times."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[datetime, PlainSerializer(iso_millis, return_type=str, when_used="json")]


def _whole_number(value: object) -> object:
    """A JSON number with a zero fraction as the integer it is: JSON has one number type,
    and JSON Schema's `integer` holds 2435.0 (the strict body parser reads it as Decimal)."""
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return value


# An integer field of a request body, `Annotated[StrictInt, Field(...), WHOLE_NUMBER]`: no
# string, no boolean, no fraction but a zero one. Last, so the field's bounds stay in its
# JSON schema (placed before them, pydantic writes them as unknown keywords).
WHOLE_NUMBER = BeforeValidator(_whole_number)
