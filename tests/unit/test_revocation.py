"""catalog.identity.revocation: which tokens an access record refuses, and for how long an
instance trusts what it read."""

from __future__ import annotations

import pytest

from catalog.core.errors import Unauthorized
from catalog.identity.principal import Principal
from catalog.identity.revocation import AccessRecord, RevocationCheck, effective, next_second
from tests.fakes import MemoryRecords

EDITOR = Principal(sub="u-1", role="editor", issued_at=1_000)


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_user_without_a_record_acts_as_their_token_says() -> None:
    assert effective(EDITOR, None) == EDITOR


@pytest.mark.parametrize(
    "record",
    [
        AccessRecord("u-1", enabled=False),
        AccessRecord("u-1", not_before=1_001),
        AccessRecord("u-1", enabled=False, not_before=10),
    ],
    ids=["disabled", "signed out after the token was issued", "disabled long ago"],
)
def test_a_disabled_or_signed_out_user_is_refused(record: AccessRecord) -> None:
    with pytest.raises(Unauthorized):
        effective(EDITOR, record)


def test_a_token_issued_after_the_sign_out_is_accepted() -> None:
    assert effective(EDITOR, AccessRecord("u-1", not_before=1_000)) == EDITOR


def test_a_demoted_editor_acts_as_a_viewer_and_a_promoted_one_as_its_token_says() -> None:
    # Given an editor's token
    # When their record limits them to viewer, then they act as a viewer
    assert effective(EDITOR, AccessRecord("u-1", role="viewer")).role == "viewer"
    # When it allows admin, then they act as the editor their token says until a new token
    assert effective(EDITOR, AccessRecord("u-1", role="admin")).role == "editor"


def test_an_instance_rereads_a_record_only_after_the_cache_time() -> None:
    # Given an instance that trusts what it read for 5 seconds
    records, clock = MemoryRecords(), Clock()
    check = RevocationCheck(records, ttl=lambda: 5.0, clock=clock)
    # When the same caller comes three times within those seconds
    for _ in range(3):
        assert check(EDITOR) == EDITOR
        clock.now += 1
    # Then the record was read once
    assert records.reads == 1
    # And when another instance disables them, this one refuses them once the time is over
    records.items["u-1"] = AccessRecord("u-1", enabled=False)
    clock.now += 2.5
    with pytest.raises(Unauthorized):
        check(EDITOR)


def test_the_instance_that_changes_a_record_obeys_it_at_once() -> None:
    # Given an instance that has just served an editor
    records, clock = MemoryRecords(), Clock()
    check = RevocationCheck(records, ttl=lambda: 60.0, clock=clock)
    assert check(EDITOR) == EDITOR
    # When it disables them
    check.disable("u-1")
    # Then their next request is refused without waiting for the cache
    with pytest.raises(Unauthorized):
        check(EDITOR)


def test_sign_out_refuses_tokens_of_this_second_and_before_and_keeps_the_rest() -> None:
    # Given a limited editor
    records = MemoryRecords(AccessRecord("u-1", role="viewer"))
    check = RevocationCheck(records, ttl=lambda: 0.0)
    # When they sign out
    floor = next_second()
    check.sign_out("u-1")
    # Then tokens issued before the next whole second are refused, the role limit stays
    record = records.items["u-1"]
    assert record.not_before >= floor and record.role == "viewer" and record.enabled


def test_re_enabling_keeps_the_tokens_of_before_the_disabling_refused() -> None:
    records = MemoryRecords()
    check = RevocationCheck(records, ttl=lambda: 0.0)
    check.disable("u-1")
    check.enable("u-1")
    record = records.items["u-1"]
    assert record.enabled and record.not_before > EDITOR.issued_at
    with pytest.raises(Unauthorized):
        check(EDITOR)


def test_next_second_is_after_any_iat_a_token_of_this_second_carries() -> None:
    assert next_second(lambda: 1_000.0) == 1_001
    assert next_second(lambda: 1_000.999) == 1_001
