"""Registration rules against fakes: confirmation per stage, and no half-made accounts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.auth.service import AuthService
from catalog.core.errors import Conflict, ServiceUnavailable
from catalog.identity.principal import Principal
from catalog.users.directory import IssuedTokens, SignUpResult
from catalog.users.schemas import Profile


class FakeDirectory:
    def __init__(self) -> None:
        self.users: dict[str, dict[str, object]] = {}
        self.calls: list[str] = []

    def sign_up(self, email: str, password: str, name: str) -> SignUpResult:
        self.calls.append("sign_up")
        if email in self.users:
            raise Conflict("exists")
        self.users[email] = {"sub": f"sub-{email}", "confirmed": False, "groups": set()}
        return SignUpResult(sub=f"sub-{email}", confirmed=False)

    def confirm_as_admin(self, email: str) -> None:
        self.calls.append("confirm_as_admin")
        self.users[email]["confirmed"] = True

    def set_role(self, username: str, role: str) -> None:
        self.calls.append(f"set_role:{role}")

    def delete(self, username: str) -> None:
        self.calls.append("delete")
        self.users = {e: u for e, u in self.users.items() if u["sub"] != username}

    def confirm(self, email: str, code: str) -> None: ...
    def sign_in(self, email: str, password: str) -> IssuedTokens: ...  # type: ignore[empty-body]
    def refresh(self, refresh_token: str) -> IssuedTokens: ...  # type: ignore[empty-body]
    def sign_out_everywhere(self, access_token: str) -> None: ...
    def forgot_password(self, email: str) -> None: ...
    def reset_password(self, email: str, code: str, password: str) -> None: ...


class SignOuts:
    """Records whose sessions were ended (catalog.identity.revocation's part)."""

    def __init__(self) -> None:
        self.signed_out: list[str] = []

    def sign_out(self, sub: str) -> None:
        self.signed_out.append(sub)


class FakeProfiles:
    def __init__(self, fail: bool = False) -> None:
        self.saved: dict[str, Profile] = {}
        self.fail = fail

    def create(self, profile: Profile) -> None:
        if self.fail:
            raise ServiceUnavailable("table unavailable")
        self.saved[profile.id] = profile

    def get(self, sub: str) -> Profile:
        return self.saved[sub]

    def save(self, profile: Profile) -> None:
        self.saved[profile.id] = profile

    def delete(self, sub: str) -> None:
        del self.saved[sub]

    def list_by_email(self, limit: int, after: str | None) -> tuple[list[Profile], bool]:
        return [], False


def clock() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("auto_confirm", [True, False])
def test_registration_confirms_only_where_the_stage_says_so(auto_confirm: bool) -> None:
    directory, profiles = FakeDirectory(), FakeProfiles()
    service = AuthService(
        directory, profiles, auto_confirm=lambda: auto_confirm, sign_outs=SignOuts(), clock=clock
    )
    required = service.register("a@example.com", "pw", "A")
    assert required is (not auto_confirm)
    assert directory.users["a@example.com"]["confirmed"] is auto_confirm
    assert ("confirm_as_admin" in directory.calls) is auto_confirm
    assert "set_role:viewer" in directory.calls
    assert profiles.saved["sub-a@example.com"].role == "viewer"


def test_a_failed_profile_write_removes_the_new_account() -> None:
    directory = FakeDirectory()
    service = AuthService(
        directory, FakeProfiles(fail=True), auto_confirm=lambda: True, sign_outs=SignOuts()
    )
    with pytest.raises(ServiceUnavailable):
        service.register("a@example.com", "pw", "A")
    assert directory.users == {}
    assert directory.calls[-1] == "delete"


def test_a_taken_email_changes_nothing_and_answers_like_a_new_account() -> None:
    directory, profiles = FakeDirectory(), FakeProfiles()
    service = AuthService(
        directory, profiles, auto_confirm=lambda: False, sign_outs=SignOuts(), clock=clock
    )
    first = service.register("a@example.com", "pw", "A")
    calls = len(directory.calls)
    assert service.register("a@example.com", "other", "B") == first
    assert directory.calls[calls:] == ["sign_up"]
    assert profiles.saved["sub-a@example.com"].name == "A"


def test_logout_refuses_the_callers_tokens_before_cognito_ends_their_refresh_tokens() -> None:
    # Given a signed-in user
    directory, sign_outs = FakeDirectory(), SignOuts()
    calls = sign_outs.signed_out
    directory.sign_out_everywhere = lambda token: calls.append(f"cognito:{token}")  # type: ignore[method-assign]
    service = AuthService(directory, FakeProfiles(), auto_confirm=lambda: True, sign_outs=sign_outs)
    # When they sign out
    service.logout("access-token", Principal(sub="user-1", role="viewer"))
    # Then their access record refuses their tokens first, then Cognito signs them out
    assert calls == ["user-1", "cognito:access-token"]
