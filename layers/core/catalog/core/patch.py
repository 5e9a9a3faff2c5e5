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

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        """The schema as the validator above reads it: at least one property, and `null`
        only for `nullable` fields (pydantic writes every optional field as nullable)."""
        schema: dict[str, Any] = handler(core_schema)
        target: dict[str, Any] = handler.resolve_ref_schema(schema)
        target["minProperties"] = 1
        for name, field in target.get("properties", {}).items():
            branches = field.get("anyOf")
            if name in cls.nullable or not branches or {"type": "null"} not in branches:
                continue
            rest = [branch for branch in branches if branch != {"type": "null"}]
            del field["anyOf"]
            field.pop("default", None)
            if len(rest) == 1:
                field.update(rest[0])
            else:
                field["anyOf"] = rest
        return schema

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}
