"""Roles and access rules: who may call a route (read by the functions, the gateway and CDK)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ROLES = ("viewer", "editor", "admin")  # the Cognito groups of the same names, weakest first


@dataclass(frozen=True)
class Access:
    """Who may call a route: anyone, or a principal holding one of `roles`."""

    public: bool
    roles: tuple[str, ...] = ()
    # Roles that may act only on what they own (the service checks the resource's owner).
    own_only: tuple[str, ...] = ()

    def allows(self, role: str | None) -> bool:
        """Whether a caller with `role` (None: anonymous) passes this rule."""
        return self.public or (role is not None and role in self.roles)


def roles(*names: str, own_only: tuple[str, ...] = ()) -> Access:
    unknown = (set(names) | set(own_only)) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return Access(public=False, roles=names, own_only=own_only)


PUBLIC = Access(public=True)
SIGNED_IN = roles(*ROLES)
WRITERS = roles("editor", "admin")
OWNERS = roles("editor", "admin", own_only=("editor",))  # editors change only their own
ADMINS = roles("admin")


def role_of(groups: Iterable[str]) -> str:
    """The strongest role among a user's groups (a user in none is a viewer)."""
    present = set(groups)
    return next((role for role in reversed(ROLES) if role in present), "viewer")
