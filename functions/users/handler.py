"""Users API: one's own profile, and account administration for admins."""

from __future__ import annotations

import catalog.runtime  # the function's init starts here (catalog/runtime.py)

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from catalog.http.api import Api, Cursor
from catalog.http.responses import empty, problems, returns
from catalog.identity.repository import revocations
from catalog.users.directory import CognitoDirectory
from catalog.users.repository import ProfileRepository
from catalog.users.schemas import AdminUserPatch, Profile, ProfilePatch, UserPage
from catalog.users.service import UserService

app = Api.of("users", tags=["users"])
service = UserService(ProfileRepository(), CognitoDirectory(), revocations())


@app.operation(responses={**returns(200, Profile, "The caller's profile"), **problems(401, 404)})
def get_me() -> Profile:
    """The caller's profile."""
    return service.me(app.signed_in())


@app.operation(
    responses={
        **returns(200, Profile, "The profile as changed"),
        **problems(400, 401, 415, 422),
    }
)
def update_me(body: Annotated[ProfilePatch, Body()]) -> Profile:
    """Change the caller's name."""
    return service.update_me(app.signed_in(), body)


@app.operation(
    responses={**returns(200, UserPage, "A page of accounts"), **problems(400, 401, 403, 422)}
)
def list_users(
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 20,
    cursor: Cursor = None,
) -> UserPage:
    """Every account, by email (admins)."""
    return service.list(limit, cursor)


@app.operation(
    responses={**returns(200, Profile, "The account's profile"), **problems(401, 403, 404)}
)
def get_user(id: str) -> Profile:
    """One account (admins)."""
    return service.get(id)


@app.operation(
    responses={
        **returns(200, Profile, "The account as changed"),
        **problems(400, 401, 403, 404, 409, 422),
    }
)
def administer_user(id: str, body: Annotated[AdminUserPatch, Body()]) -> Profile:
    """Change an account's name, role or enabled flag (admins)."""
    return service.administer(id, body, app.signed_in())


@app.operation(responses={**empty(204, "The account is deleted"), **problems(401, 403, 404, 409)})
def delete_user(id: str) -> Response[None]:
    """Delete an account from Cognito and its profile (admins)."""
    service.delete(id, app.signed_in())
    return Response(status_code=204, body=None)


lambda_handler = catalog.runtime.ready(app.handler())
