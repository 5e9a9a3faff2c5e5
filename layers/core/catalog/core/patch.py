"""The base of PATCH bodies: only the fields sent change, and at least one must be sent."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator


class Patch(BaseModel):
    """Absent fields stay as they are; `null` is refused except for `nullable` fields."""

    model_config = ConfigDict(extra="forbid")
    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _has_changes_and_no_nulls(self) -> Patch:
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        nulls = sorted(
            f for f in self.model_fields_set if getattr(self, f) is None and f not in self.nullable
        )
        if nulls:
            raise ValueError(f"fields cannot be null: {', '.join(nulls)}")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}
