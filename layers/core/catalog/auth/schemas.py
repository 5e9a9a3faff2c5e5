"""Pydantic models of the auth endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from catalog.users.schemas import Email, NewPassword, Password, PersonName

Code = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{4,12}$")]
# Tokens are printable ASCII (base64url segments, or moto's UUIDs): nothing else is one.
Token = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=r"^[!-~]+$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Registration(_Body):
    email: Email
    password: NewPassword
    name: PersonName


class Confirmation(_Body):
    email: Email
    code: Code


class Credentials(_Body):
    email: Email
    password: Password


class RefreshRequest(_Body):
    refresh_token: Token


class ForgotPassword(_Body):
    email: Email


class PasswordReset(_Body):
    email: Email
    code: Code
    password: NewPassword


class Registered(BaseModel):
    email: str
    confirmation_required: bool


class Tokens(BaseModel):
    access_token: str
    id_token: str
    refresh_token: str | None = None
    expires_in: int
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme, not a secret
