"""Revoked access: what an admin or a sign-out changed, checked on every signed-in request.

A Cognito access token stays valid by its signature for an hour, and the role it carries is
the one its user had when it was issued. So each user may have an access record, written
when their access changes and read by every function that serves them:

- `not_before`: tokens issued before it (`iat`, whole seconds) are refused. Sign-out,
  disabling and deletion set it to the next whole second: a token issued in the second of
  the change counts as issued before it, so one signed in again within that second is
  refused for the rest of it.
- `enabled`: false refuses every token (a disabled or deleted user).
- `role`: the most a token may act as: an editor demoted to viewer acts as a viewer at once;
  a promotion takes effect with the next token, which carries the new group.

A user without a record (never changed) acts as their token says. Each function instance
keeps records for `access_cache_s` seconds (a stage setting), so a change takes effect
everywhere within that bound, and at once on the instance that made it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from catalog.core.errors import Unauthorized
from catalog.core.settings import settings
from catalog.identity.access import ROLES
from catalog.identity.principal import Principal


@dataclass(frozen=True)
class AccessRecord:
    sub: str
    enabled: bool = True
    not_before: int = 0  # epoch seconds
    role: str | None = None  # the strongest role a token may act as (None: any)


class AccessRecords(Protocol):
    def get(self, sub: str) -> AccessRecord | None: ...
    def save(self, record: AccessRecord) -> None: ...


def next_second(clock: Callable[[], float] = time.time) -> int:
    """The first whole second a token issued after now can carry as `iat`."""
    return math.floor(clock()) + 1


def effective(principal: Principal, record: AccessRecord | None) -> Principal:
    """The caller as its record lets it act, or Unauthorized when it may not at all."""
    if record is None:
        return principal
    if not record.enabled or principal.issued_at < record.not_before:
        raise Unauthorized("This sign-in is no longer valid; sign in again.")
    if record.role is not None and ROLES.index(record.role) < ROLES.index(principal.role):
        return replace(principal, role=record.role)
    return principal


class RevocationCheck:
    """The records of the callers this instance served lately, read at most once per
    `ttl` seconds each."""

    def __init__(
        self,
        records: AccessRecords,
        ttl: Callable[[], float] = lambda: settings().access_cache_s,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._records = records
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, AccessRecord | None]] = {}
        self._lock = threading.Lock()

    def __call__(self, principal: Principal) -> Principal:
        return effective(principal, self.record(principal.sub))

    def record(self, sub: str) -> AccessRecord | None:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(sub)
        if cached is not None and now - cached[0] < self._ttl():
            return cached[1]
        record = self._records.get(sub)
        with self._lock:
            self._cache[sub] = (now, record)
        return record

    def forget(self) -> None:
        """Drop every record read so far: each is read again on its caller's next request."""
        with self._lock:
            self._cache.clear()

    def change(self, sub: str, change: Callable[[AccessRecord], AccessRecord]) -> None:
        """Write `sub`'s record as `change` makes it, and forget what this instance had."""
        current = self._records.get(sub) or AccessRecord(sub)
        self._records.save(change(current))
        with self._lock:
            self._cache.pop(sub, None)

    def sign_out(self, sub: str) -> None:
        """Every token issued so far is refused (sign-out everywhere)."""
        self.change(sub, lambda r: replace(r, not_before=max(r.not_before, next_second())))

    def disable(self, sub: str) -> None:
        """No token is accepted; after re-enabling, only those issued from now on."""
        self.change(
            sub, lambda r: replace(r, enabled=False, not_before=max(r.not_before, next_second()))
        )

    def enable(self, sub: str) -> None:
        self.change(sub, lambda r: replace(r, enabled=True))

    def limit_role(self, sub: str, role: str) -> None:
        self.change(sub, lambda r: replace(r, role=role))
