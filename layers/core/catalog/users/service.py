"""User rules: own profile, and what admins may do to other accounts. No HTTP, no boto."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from catalog.core.cursor import page_cursor, position_after
from catalog.core.errors import Conflict
from catalog.core.types import now_millis
from catalog.identity.principal import Principal
from catalog.users.repository import position_of
from catalog.users.schemas import AdminUserPatch, Profile, ProfilePatch, UserPage

_LIST = "users:email"


class Profiles(Protocol):
    def get(self, sub: str) -> Profile: ...
    def create(self, profile: Profile) -> None: ...
    def save(self, profile: Profile) -> None: ...
    def delete(self, sub: str) -> None: ...
    def list_by_email(self, limit: int, after: str | None) -> tuple[list[Profile], bool]: ...


class Directory(Protocol):
    def set_role(self, username: str, role: str) -> None: ...
    def set_enabled(self, username: str, enabled: bool) -> None: ...
    def delete(self, username: str) -> None: ...


class Revocations(Protocol):
    """What changes a user's access at once, for the tokens they already hold
    (catalog.identity.revocation)."""

    def disable(self, sub: str) -> None: ...
    def enable(self, sub: str) -> None: ...
    def limit_role(self, sub: str, role: str) -> None: ...


class UserService:
    def __init__(
        self,
        profiles: Profiles,
        directory: Directory,
        revocations: Revocations,
        clock: Callable[[], datetime] = now_millis,
    ) -> None:
        self._profiles = profiles
        self._directory = directory
        self._revocations = revocations
        self._clock = clock

    def me(self, by: Principal) -> Profile:
        return self._profiles.get(by.sub)

    def update_me(self, by: Principal, patch: ProfilePatch) -> Profile:
        profile = self._profiles.get(by.sub)
        updated = profile.model_copy(update={"name": patch.name, "updated_at": self._clock()})
        self._profiles.save(updated)
        return updated

    def get(self, sub: str) -> Profile:
        return self._profiles.get(sub)

    def list(self, limit: int, cursor: str | None) -> UserPage:
        after = position_after(cursor, _LIST)
        items, more = self._profiles.list_by_email(limit, after)
        next_cursor = page_cursor(_LIST, position_of(items[-1])) if more else None
        return UserPage(items=items, next_cursor=next_cursor)

    def administer(self, sub: str, patch: AdminUserPatch, by: Principal) -> Profile:
        """Change another account's name, role or enabled flag: its access record first
        (the tokens it holds obey at once), then Cognito, then the profile (which never
        claims a role the directory does not grant)."""
        profile = self._profiles.get(sub)
        if sub == by.sub and (patch.role not in (None, "admin") or patch.enabled is False):
            raise Conflict("Admins cannot demote or disable themselves.")
        if patch.role is not None and patch.role != profile.role:
            self._revocations.limit_role(profile.id, patch.role)
            self._directory.set_role(profile.id, patch.role)
        if patch.enabled is not None and patch.enabled != profile.enabled:
            if patch.enabled:
                self._revocations.enable(profile.id)
            else:
                self._revocations.disable(profile.id)
            self._directory.set_enabled(profile.id, patch.enabled)
        updated = profile.model_copy(update={**patch.changes(), "updated_at": self._clock()})
        self._profiles.save(updated)
        return updated

    def delete(self, sub: str, by: Principal) -> None:
        if sub == by.sub:
            raise Conflict("Admins cannot delete their own account.")
        profile = self._profiles.get(sub)
        # The record outlives the account: the tokens it held stay refused until they expire.
        self._revocations.disable(profile.id)
        self._directory.delete(profile.id)
        self._profiles.delete(profile.id)
