"""Users API: one's own profile, and account administration for admins."""

from __future__ import annotations

# ruff: noqa: E402 - the garbage collector pauses before the other imports (catalog.core.coldstart).
from catalog.core import coldstart

coldstart.begin()  # until api_handler() below

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from catalog.core.http import api_handler, make_resolver, signed_in
from catalog.http.responses import problems
from catalog.http.routes import routes_of
from catalog.users.directory import CognitoDirectory
from catalog.users.repository import ProfileRepository
from catalog.users.schemas import AdminUserPatch, Profile, ProfilePatch, UserPage
from catalog.users.service import UserService

app = make_resolver()
service = UserService(ProfileRepository(), CognitoDirectory())
TAGS = ["users"]


@app.get("/v1/users/me", tags=TAGS, responses=problems(401, 404))
def get_me() -> Profile:
    """The caller's profile."""
    return service.me(signed_in(app))


@app.patch("/v1/users/me", tags=TAGS, responses=problems(400, 401, 415, 422))
def update_me(body: Annotated[ProfilePatch, Body()]) -> Profile:
    """Change the caller's name."""
    return service.update_me(signed_in(app), body)


@app.get("/v1/users", tags=TAGS, responses=problems(400, 401, 403, 422))
def list_users(
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 20,
    cursor: Annotated[str | None, Query(max_length=1024, description="From next_cursor")] = None,
) -> UserPage:
    """Every account, by email (admins)."""
    return service.list(limit, cursor)


@app.get("/v1/users/<id>", tags=TAGS, responses=problems(401, 403, 404))
def get_user(id: str) -> Profile:
    """One account (admins)."""
    return service.get(id)


@app.patch("/v1/users/<id>", tags=TAGS, responses=problems(400, 401, 403, 404, 409, 422))
def administer_user(id: str, body: Annotated[AdminUserPatch, Body()]) -> Profile:
    """Change an account's name, role or enabled flag (admins)."""
    return service.administer(id, body, signed_in(app))


@app.delete("/v1/users/<id>", tags=TAGS, responses=problems(401, 403, 404, 409))
def delete_user(id: str) -> Response[None]:
    """Delete an account from Cognito and its profile (admins)."""
    service.delete(id, signed_in(app))
    return Response(status_code=204, body=None)


lambda_handler = api_handler(app, routes_of("users"))
