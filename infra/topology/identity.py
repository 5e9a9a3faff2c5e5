"""Identity: the user pool and its groups (the roles), sign-up and sign-in, profiles."""

from __future__ import annotations

from catalog.identity.access import ROLES
from infra.topology.model import Capability, Function, Index, Table, UserPool

IDENTITY = Capability(
    "identity",
    functions=(
        Function(
            "auth",
            code="functions/auth",
            memory_mb=256,
            tables={"users": "write", "access": "write"},
            user_pool="admin",
            init_clients=("cognito-idp",),
        ),
        Function(
            "users",
            code="functions/users",
            memory_mb=256,
            # access: its callers' records (every signed-in route), and the records it
            # writes when an admin disables, demotes or deletes a user
            tables={"users": "write", "access": "write"},
            user_pool="admin",
        ),
    ),
    tables=(
        Table(
            name="users",
            partition_key="pk",
            sort_key="sk",
            indexes=(
                # Every profile by email, for the admin listing (sparse: profiles only).
                Index("gsi1", partition_key="gsi1pk", sort_key="gsi1sk"),
            ),
            stream="NEW_AND_OLD_IMAGES",
        ),
        # Each user whose access changed (sign-out, disabled, deleted, role): read by every
        # function serving signed-in callers (catalog.identity.revocation).
        Table(name="access", partition_key="sub"),
    ),
    user_pool=UserPool("users", groups=ROLES, default_group="viewer"),
)
