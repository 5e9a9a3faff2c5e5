"""pynamodb pieces every repository shares: lazy table names, exact numbers, transactions."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from pynamodb.attributes import Attribute
from pynamodb.connection import Connection
from pynamodb.constants import NUMBER
from pynamodb.exceptions import TransactWriteError

from catalog.core.settings import settings


class TableName:
    """A model's `Meta.table_name` resolved on first use from `TABLE_<NAME>`, not at import."""

    def __init__(self, logical: str) -> None:
        self.logical = logical

    def __get__(self, instance: object, owner: type) -> str:
        return settings().table_name(self.logical)


class DecimalAttribute(Attribute[Decimal]):
    """A DynamoDB number read back as `Decimal` (pynamodb's NumberAttribute yields floats)."""

    attr_type = NUMBER

    def serialize(self, value: Decimal) -> str:
        return str(value)

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


@cache
def connection() -> Connection:
    """The connection transactions go through (region and endpoint from the environment)."""
    return Connection()


def failed_conditions(error: TransactWriteError) -> list[bool]:
    """Per transaction item, in request order: did its condition fail?"""
    return [
        reason is not None and reason.code == "ConditionalCheckFailed"
        for reason in error.cancellation_reasons
    ]
