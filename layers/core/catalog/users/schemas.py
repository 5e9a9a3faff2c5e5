"""Pydantic models of users: profiles as returned, and what users and admins may change."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictBool, StringConstraints

from catalog.core.patch import Patch
from catalog.core.text import clean_line
from catalog.core.types import Timestamp

Role = Literal["viewer", "editor", "admin"]


def _email(value: str) -> str:
    return clean_line(value).lower()


# Cognito checks addresses again; this keeps obvious garbage (and, as in every one-line
# field, hidden characters: an address lands in email headers) out and the case stable.
Email = Annotated[
    str,
    AfterValidator(_email),
    StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254),
]
# Taken as typed: never normalized or trimmed (that would change a password), only bounded.
Password = Annotated[str, StringConstraints(min_length=1, max_length=256)]
PersonName = Annotated[
    str, AfterValidator(clean_line), StringConstraints(min_length=1, max_length=100)
]


class Profile(BaseModel):
    """A user's profile (the Cognito `sub` is its id)."""

    id: str
    email: str
    name: str
    role: Role
    enabled: bool
    created_at: Timestamp
    updated_at: Timestamp


class ProfilePatch(BaseModel):
    """Body of `PATCH /v1/users/me`."""

    model_config = ConfigDict(extra="forbid")

    name: PersonName


class AdminUserPatch(Patch):
    """Body of `PATCH /v1/users/{id}` (admins): any of name, role, enabled."""

    name: PersonName | None = None
    role: Role | None = None
    enabled: StrictBool | None = None


class UserPage(BaseModel):
    items: list[Profile]
    next_cursor: str | None
