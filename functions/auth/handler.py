"""Auth API: sign-up, confirmation, sign-in, refresh, sign-out and password reset."""

from __future__ import annotations

import catalog.runtime  # the function's init starts here (catalog/runtime.py)

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from catalog.auth.schemas import (
    Confirmation,
    Credentials,
    ForgotPassword,
    PasswordReset,
    RefreshRequest,
    Registered,
    Registration,
    Tokens,
)
from catalog.auth.service import AuthService
from catalog.core.settings import settings
from catalog.http.api import JSON, Api
from catalog.http.responses import empty, problems, returns
from catalog.identity.principal import bearer_token
from catalog.identity.repository import revocations
from catalog.users.directory import CognitoDirectory, IssuedTokens
from catalog.users.repository import ProfileRepository

app = Api.of("auth", tags=["auth"])
service = AuthService(
    CognitoDirectory(),
    ProfileRepository(),
    auto_confirm=lambda: settings().auto_confirm_users,
    sign_outs=revocations(),
)


def _tokens(issued: IssuedTokens) -> Tokens:
    return Tokens(
        access_token=issued.access_token,
        id_token=issued.id_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
    )


def _no_content() -> Response[None]:
    return Response(status_code=204, body=None)


@app.operation(
    responses={
        **returns(201, Registered, "The account, and whether a code was emailed to confirm it"),
        **problems(400, 415, 422),
    }
)
def register(body: Annotated[Registration, Body()]) -> Response[Registered]:
    """Create an account (role viewer). The answer is the same if the email is taken."""
    required = service.register(body.email, body.password, body.name)
    registered = Registered(email=body.email, confirmation_required=required)
    return Response(status_code=201, content_type=JSON, body=registered)


@app.operation(responses={**empty(204, "The account is confirmed"), **problems(400, 422)})
def confirm(body: Annotated[Confirmation, Body()]) -> Response[None]:
    """Confirm an account with the code sent by email."""
    service.confirm(body.email, body.code)
    return _no_content()


@app.operation(responses={**returns(200, Tokens, "The tokens"), **problems(400, 401, 422)})
def login(body: Annotated[Credentials, Body()]) -> Tokens:
    """Exchange email and password for tokens; send `access_token` as a Bearer token."""
    return _tokens(service.login(body.email, body.password))


@app.operation(
    responses={**returns(200, Tokens, "New access and id tokens"), **problems(400, 401, 422)}
)
def refresh(body: Annotated[RefreshRequest, Body()]) -> Tokens:
    """New access and id tokens from a refresh token."""
    return _tokens(service.refresh(body.refresh_token))


@app.operation(responses={**empty(204, "Signed out everywhere"), **problems(401)})
def logout() -> Response[None]:
    """Sign out everywhere: every refresh token of the caller stops working."""
    by = app.signed_in()
    token = bearer_token(app.current_event.headers)
    if token is not None:
        service.logout(token, by)
    return _no_content()


@app.operation(
    responses={**empty(202, "A code is emailed if the account exists"), **problems(400, 422)}
)
def forgot_password(body: Annotated[ForgotPassword, Body()]) -> Response[None]:
    """Email a reset code if the account exists (202 either way)."""
    service.forgot_password(body.email)
    return Response(status_code=202, body=None)


@app.operation(responses={**empty(204, "The password is changed"), **problems(400, 422)})
def reset_password(body: Annotated[PasswordReset, Body()]) -> Response[None]:
    """Set a new password with the emailed code."""
    service.reset_password(body.email, body.code, body.password)
    return _no_content()


lambda_handler = catalog.runtime.ready(app.handler())
