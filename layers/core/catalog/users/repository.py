"""User profiles in DynamoDB with pynamodb: `pk=USER#<sub>, sk=PROFILE`, listed by email."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from catalog.core.dynamo import TableModel, TableName, string_index
from catalog.core.errors import Conflict, NotFound
from catalog.core.types import iso_millis
from catalog.users.schemas import Profile

PROFILE_SK = "PROFILE"
ALL_USERS = "USER"  # gsi1 partition of every profile, ordered by email


class ProfileItem(TableModel):
    """A user's profile; every profile is in one gsi1 partition, ordered by email."""

    KEYS: ClassVar[dict[str, dict[str, str]]] = {
        "profile": {
            "pk": "USER#<sub>",
            "sk": "PROFILE",
            "gsi1pk": "USER",
            "gsi1sk": "<email>#<sub>",
        }
    }

    class Meta:
        table_name = TableName("users")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    enabled = BooleanAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    by_email = string_index("gsi1", "gsi1pk", "gsi1sk")


def user_key(sub: str) -> str:
    return f"USER#{sub}"


def _to_item(profile: Profile) -> ProfileItem:
    return ProfileItem(
        pk=user_key(profile.id),
        sk=PROFILE_SK,
        gsi1pk=ALL_USERS,
        gsi1sk=f"{profile.email}#{profile.id}",
        id=profile.id,
        email=profile.email,
        name=profile.name,
        role=profile.role,
        enabled=profile.enabled,
        created_at=iso_millis(profile.created_at),
        updated_at=iso_millis(profile.updated_at),
    )


def _to_profile(item: ProfileItem) -> Profile:
    return Profile(
        id=item.id,
        email=item.email,
        name=item.name,
        role=item.role,  # type: ignore[arg-type]
        enabled=bool(item.enabled),
        created_at=datetime.fromisoformat(item.created_at),
        updated_at=datetime.fromisoformat(item.updated_at),
    )


class ProfileRepository:
    def get(self, sub: str) -> Profile:
        try:
            return _to_profile(ProfileItem.get(user_key(sub), PROFILE_SK, consistent_read=True))
        except DoesNotExist:
            raise NotFound("No such user.") from None

    def create(self, profile: Profile) -> None:
        try:
            _to_item(profile).save(condition=ProfileItem.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict("This user already has a profile.") from None
            raise

    def save(self, profile: Profile) -> None:
        """Overwrite an existing profile."""
        try:
            _to_item(profile).save(condition=ProfileItem.pk.exists())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise NotFound("No such user.") from None
            raise

    def delete(self, sub: str) -> None:
        try:
            ProfileItem(user_key(sub), PROFILE_SK).delete()
        except DeleteError:
            raise

    def list_by_email(self, limit: int, after: str | None) -> tuple[list[Profile], bool]:
        """Up to `limit` profiles in email order after the `gsi1sk` value `after`."""
        start: dict[str, Any] | None = None
        if after is not None:
            sub = after.rsplit("#", 1)[-1]
            start = {
                "pk": {"S": user_key(sub)},
                "sk": {"S": PROFILE_SK},
                "gsi1pk": {"S": ALL_USERS},
                "gsi1sk": {"S": after},
            }
        results = ProfileItem.by_email.query(ALL_USERS, limit=limit + 1, last_evaluated_key=start)
        profiles = [_to_profile(item) for item in results]
        return profiles[:limit], len(profiles) > limit


def position_of(profile: Profile) -> str:
    """The listing position after `profile` (its gsi1 sort key)."""
    return f"{profile.email}#{profile.id}"
