"""The Cognito user pool behind a small interface; Cognito errors become domain errors here.

Sign-in failures are deliberately indistinct: a wrong password, an unknown email, an
unconfirmed or disabled account all raise the same `Unauthorized`, so the API cannot be
used to find out who has an account.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from catalog.core import aws
from catalog.core.errors import (
    BadRequest,
    Conflict,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from catalog.core.settings import settings
from catalog.identity.access import ROLES

BAD_CREDENTIALS = "The email or password is wrong, or the account is not usable."
SIGN_IN_FAILURES = frozenset(
    {
        "NotAuthorizedException",
        "UserNotFoundException",
        "UserNotConfirmedException",
        "PasswordResetRequiredException",
    }
)


@cache
def _client() -> Any:
    return aws.client("cognito-idp")


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


@dataclass(frozen=True)
class SignUpResult:
    sub: str
    confirmed: bool


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    id_token: str
    refresh_token: str | None
    expires_in: int


class CognitoDirectory:
    """Users, groups and tokens of the pool named by the settings."""

    @property
    def _pool(self) -> str:
        return settings().cognito_user_pool_id

    @property
    def _app(self) -> str:
        return settings().cognito_client_id

    def _call(self, operation: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(_client(), operation)(**kwargs)
        except ClientError as error:
            raise _translate(operation, _code(error)) from None
        except BotoCoreError:
            raise ServiceUnavailable("The user directory is unreachable; try again.") from None

    # --- sign-up and confirmation -------------------------------------------------------

    def sign_up(self, email: str, password: str, name: str) -> SignUpResult:
        result = self._call(
            "sign_up",
            ClientId=self._app,
            Username=email,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "name", "Value": name}],
        )
        return SignUpResult(sub=result["UserSub"], confirmed=bool(result["UserConfirmed"]))

    def confirm_as_admin(self, email: str) -> None:
        self._call("admin_confirm_sign_up", UserPoolId=self._pool, Username=email)
        self._call(
            "admin_update_user_attributes",
            UserPoolId=self._pool,
            Username=email,
            UserAttributes=[{"Name": "email_verified", "Value": "true"}],
        )

    def confirm(self, email: str, code: str) -> None:
        self._call("confirm_sign_up", ClientId=self._app, Username=email, ConfirmationCode=code)

    # --- tokens -------------------------------------------------------------------------

    def sign_in(self, email: str, password: str) -> IssuedTokens:
        result = self._call(
            "initiate_auth",
            ClientId=self._app,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        return _tokens(result)

    def refresh(self, refresh_token: str) -> IssuedTokens:
        result = self._call(
            "initiate_auth",
            ClientId=self._app,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
        return _tokens(result)

    def sign_out_everywhere(self, access_token: str) -> None:
        self._call("global_sign_out", AccessToken=access_token)

    def forgot_password(self, email: str) -> None:
        self._call("forgot_password", ClientId=self._app, Username=email)

    def reset_password(self, email: str, code: str, password: str) -> None:
        self._call(
            "confirm_forgot_password",
            ClientId=self._app,
            Username=email,
            ConfirmationCode=code,
            Password=password,
        )

    # --- administration -----------------------------------------------------------------

    def set_role(self, username: str, role: str) -> None:
        """Make `role` the user's only role group."""
        current = self._call("admin_list_groups_for_user", UserPoolId=self._pool, Username=username)
        for group in current.get("Groups", []):
            if group["GroupName"] in ROLES and group["GroupName"] != role:
                self._call(
                    "admin_remove_user_from_group",
                    UserPoolId=self._pool,
                    Username=username,
                    GroupName=group["GroupName"],
                )
        self._call(
            "admin_add_user_to_group", UserPoolId=self._pool, Username=username, GroupName=role
        )

    def set_enabled(self, username: str, enabled: bool) -> None:
        operation = "admin_enable_user" if enabled else "admin_disable_user"
        self._call(operation, UserPoolId=self._pool, Username=username)
        if not enabled:
            self._call("admin_user_global_sign_out", UserPoolId=self._pool, Username=username)

    def delete(self, username: str) -> None:
        self._call("admin_delete_user", UserPoolId=self._pool, Username=username)


def _tokens(result: dict[str, Any]) -> IssuedTokens:
    issued = result["AuthenticationResult"]
    return IssuedTokens(
        access_token=issued["AccessToken"],
        id_token=issued["IdToken"],
        refresh_token=issued.get("RefreshToken"),
        expires_in=int(issued["ExpiresIn"]),
    )


def _translate(operation: str, code: str) -> Exception:
    if operation == "initiate_auth" and code in SIGN_IN_FAILURES:
        return Unauthorized(BAD_CREDENTIALS)
    if code == "NotAuthorizedException":
        return Unauthorized("The token is invalid, expired or revoked.")
    if code == "InvalidPasswordException":
        return ValidationFailed(
            "The password does not meet the policy.",
            errors=[
                {
                    "in": "body",
                    "pointer": "#/password",
                    "detail": "Use at least 12 characters with upper and lower case letters, "
                    "digits and symbols.",
                    "type": "password_policy",
                }
            ],
        )
    if code in ("CodeMismatchException", "ExpiredCodeException"):
        return BadRequest("The code is wrong or has expired.")
    if code in ("UsernameExistsException", "AliasExistsException"):
        return Conflict("An account with this email exists.")
    if code == "UserNotFoundException" or (
        code == "ResourceNotFoundException" and operation.startswith("confirm_")
    ):
        return NotFound("No such user.")
    if code in ("TooManyRequestsException", "LimitExceededException"):
        return ServiceUnavailable("Too many attempts; wait a while and try again.")
    return ServiceUnavailable("The user directory failed to answer; try again.")
