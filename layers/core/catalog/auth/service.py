"""Sign-up, sign-in and password flows. No HTTP, no boto.

Registration answers the same whether or not the email already has an account, and every
sign-in failure is the same 401, so the API does not reveal who is registered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from aws_lambda_powertools.metrics import MetricUnit

from catalog.core import business_metrics as names
from catalog.core.errors import BadRequest, CatalogError, Conflict, NotFound, Unauthorized
from catalog.core.observability import logger, metrics
from catalog.core.types import now_millis
from catalog.identity.principal import Principal
from catalog.users.directory import IssuedTokens, SignUpResult
from catalog.users.schemas import Profile, Role
from catalog.users.service import Profiles

DEFAULT_ROLE: Role = "viewer"


class Directory(Protocol):
    def sign_up(self, email: str, password: str, name: str) -> SignUpResult: ...
    def confirm_as_admin(self, email: str) -> None: ...
    def confirm(self, email: str, code: str) -> None: ...
    def sign_in(self, email: str, password: str) -> IssuedTokens: ...
    def refresh(self, refresh_token: str) -> IssuedTokens: ...
    def sign_out_everywhere(self, access_token: str) -> None: ...
    def forgot_password(self, email: str) -> None: ...
    def reset_password(self, email: str, code: str, password: str) -> None: ...
    def set_role(self, username: str, role: str) -> None: ...
    def delete(self, username: str) -> None: ...


class SignOuts(Protocol):
    def sign_out(self, sub: str) -> None: ...


class AuthService:
    def __init__(
        self,
        directory: Directory,
        profiles: Profiles,
        auto_confirm: Callable[[], bool],
        sign_outs: SignOuts,
        clock: Callable[[], datetime] = now_millis,
    ) -> None:
        self._directory = directory
        self._profiles = profiles
        self._auto_confirm = auto_confirm
        self._sign_outs = sign_outs
        self._clock = clock

    def register(self, email: str, password: str, name: str) -> bool:
        """Create a viewer account and its profile; True when an emailed code must confirm it.

        Every step after the Cognito sign-up is undone if a later one fails, so a failed
        registration leaves neither a user without a profile nor the reverse.
        """
        try:
            result = self._directory.sign_up(email, password, name)
        except Conflict:
            return not self._auto_confirm()  # the same answer as for a new account
        try:
            if self._auto_confirm():
                self._directory.confirm_as_admin(email)
            self._directory.set_role(result.sub, DEFAULT_ROLE)
            now = self._clock()
            self._profiles.create(
                Profile(
                    id=result.sub,
                    email=email,
                    name=name,
                    role=DEFAULT_ROLE,
                    enabled=True,
                    created_at=now,
                    updated_at=now,
                )
            )
        except Exception:
            logger.exception("registration failed after sign-up; removing the account")
            self._directory.delete(result.sub)
            raise
        metrics.add_metric(name=names.SIGN_UP, unit=MetricUnit.Count, value=1)
        return not (result.confirmed or self._auto_confirm())

    def confirm(self, email: str, code: str) -> None:
        try:
            self._directory.confirm(email, code)
        except NotFound:
            raise _bad_code() from None

    def login(self, email: str, password: str) -> IssuedTokens:
        try:
            return self._directory.sign_in(email, password)
        except Unauthorized:
            # Wrong passwords, unknown or unconfirmed accounts: a rise is guessing or a
            # broken client (the WAF's auth rate rule answers the worst of it).
            metrics.add_metric(name=names.SIGN_IN_FAILED, unit=MetricUnit.Count, value=1)
            raise

    def refresh(self, refresh_token: str) -> IssuedTokens:
        return self._directory.refresh(refresh_token)

    def logout(self, access_token: str, by: Principal) -> None:
        """Sign out everywhere: the access tokens the caller holds are refused at once
        (catalog.identity.revocation), their refresh tokens by Cognito."""
        self._sign_outs.sign_out(by.sub)
        self._directory.sign_out_everywhere(access_token)

    def forgot_password(self, email: str) -> None:
        """Send a reset code if the account exists; the answer is the same either way."""
        try:
            self._directory.forgot_password(email)
        except NotFound:
            logger.info("password reset asked for an unknown account")

    def reset_password(self, email: str, code: str, password: str) -> None:
        try:
            self._directory.reset_password(email, code, password)
        except NotFound:
            raise _bad_code() from None


def _bad_code() -> CatalogError:
    return BadRequest("The code is wrong or has expired.")
