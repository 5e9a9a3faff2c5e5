"""Access records in DynamoDB (the `access` table, one item per user whose access changed)."""

from __future__ import annotations

from functools import cache
from typing import ClassVar

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from catalog import runtime
from catalog.core.dynamo import TableModel, TableName
from catalog.identity.revocation import AccessRecord, RevocationCheck


class AccessItem(TableModel):
    """One user's access record: sign-outs, disabling, role limits."""

    KEYS: ClassVar[dict[str, dict[str, str]]] = {"access": {"sub": "<sub>"}}

    class Meta:
        table_name = TableName("access")

    sub = UnicodeAttribute(hash_key=True)
    enabled = BooleanAttribute()
    not_before = NumberAttribute()
    role = UnicodeAttribute(null=True)


class AccessRecordRepository:
    def get(self, sub: str) -> AccessRecord | None:
        try:
            # Consistent: a change must be seen by the next read, wherever it runs.
            item = AccessItem.get(sub, consistent_read=True)
        except DoesNotExist:
            return None
        return AccessRecord(
            sub=item.sub,
            enabled=bool(item.enabled),
            not_before=int(item.not_before),
            role=item.role,
        )

    def save(self, record: AccessRecord) -> None:
        AccessItem(
            sub=record.sub, enabled=record.enabled, not_before=record.not_before, role=record.role
        ).save()


@cache
def revocations() -> RevocationCheck:
    """This function instance's check (and cache) of its callers' access records."""
    return RevocationCheck(AccessRecordRepository())


@runtime.on_restore
def _forget_access_records() -> None:
    """Records are kept by the monotonic clock, which may not count the time an environment
    spent in a SnapStart snapshot: a record read before it would pass for fresh after."""
    if revocations.cache_info().currsize:
        revocations().forget()
