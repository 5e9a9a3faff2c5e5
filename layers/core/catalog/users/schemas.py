"""Pydantic models of users: profiles as returned, and what users and admins may change."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from catalog.core.patch import Patch
from catalog.core.text import TextRule, clean_line
from catalog.core.types import Timestamp

Role = Literal["viewer", "editor", "admin"]


EMAIL_LOCAL_MAX = 64  # characters before the "@" (RFC 5321 section 4.5.3.1.1)


def _email(value: str) -> str:
    if len(value.partition("@")[0]) > EMAIL_LOCAL_MAX:
        raise ValueError(f"the part before '@' is longer than {EMAIL_LOCAL_MAX} characters")
    return clean_line(value).lower()


# An address both Cognito and its local twin take as a user name (ASCII: moto refuses
# others as "not an email", and so would a client's mail server more often than not),
# once trimmed and lower-cased; hidden characters never get this far. The local part is a
# dot-atom (no leading, trailing or doubled dot: RFC 5322) and each label of the domain a
# host name's (letters, digits and inner hyphens, at most 63: RFC 1123), as the document's
# `format: email` says.
EMAIL_PATTERN = (
    r"^[A-Za-z0-9_][A-Za-z0-9_%+-]*(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
Email = Annotated[
    str,
    AfterValidator(_email),
    StringConstraints(pattern=EMAIL_PATTERN, max_length=254),
    WithJsonSchema(
        {
            "type": "string",
            "format": "email",
            "maxLength": 254,
            # the local part's bound as a lookahead, which pydantic's engine lacks (`_email`)
            "pattern": f"^(?=[^@]{{1,{EMAIL_LOCAL_MAX}}}@){EMAIL_PATTERN[1:]}",
        }
    ),
]
# Taken as typed: never normalized or trimmed (that would change a password), only bounded.
Password = Annotated[str, StringConstraints(min_length=1, max_length=256)]

# The user pool's policy (infra/stack/identity.py, infra/local/provision.py), checked here
# so that a weak password is refused with the field's error before Cognito is asked.
PASSWORD_MIN_LENGTH = 12
PASSWORD_SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-"  # noqa: S105 - Cognito's special characters
_SYMBOL_CLASS = "".join("\\" + c if c in "]\\^-[" else c for c in PASSWORD_SYMBOLS)
PASSWORD_POLICY_PATTERN = (
    f"^(?=[\\s\\S]*[a-z])(?=[\\s\\S]*[A-Z])(?=[\\s\\S]*[0-9])(?=[\\s\\S]*[{_SYMBOL_CLASS}])"
)
PASSWORD_POLICY = (
    f"Use at least {PASSWORD_MIN_LENGTH} characters with upper and lower case letters, "
    "digits and symbols."
)


def _meets_policy(value: str) -> str:
    if not (
        any("a" <= c <= "z" for c in value)
        and any("A" <= c <= "Z" for c in value)
        and any("0" <= c <= "9" for c in value)
        and any(c in PASSWORD_SYMBOLS for c in value)
    ):
        raise PydanticCustomError("password_policy", PASSWORD_POLICY)
    return value


NewPassword = Annotated[
    str,
    StringConstraints(min_length=PASSWORD_MIN_LENGTH, max_length=256),
    AfterValidator(_meets_policy),
    WithJsonSchema(
        {
            "type": "string",
            "format": "password",
            "minLength": PASSWORD_MIN_LENGTH,
            "maxLength": 256,
            "pattern": PASSWORD_POLICY_PATTERN,
            "description": PASSWORD_POLICY,
        }
    ),
]
PersonName = Annotated[
    str,
    AfterValidator(clean_line),
    StringConstraints(min_length=1, max_length=100),
    TextRule(required=True),
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
