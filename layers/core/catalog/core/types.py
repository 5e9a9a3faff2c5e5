"""Value types shared by every resource's schemas and storage."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer


def iso_millis(moment: datetime) -> str:
    """UTC ISO 8601 with milliseconds and `Z`, as the API writes and DynamoDB stores times."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[datetime, PlainSerializer(iso_millis, return_type=str, when_used="json")]
