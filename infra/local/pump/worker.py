"""What every event source's polling thread shares: the consumer it invokes, its stats."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from infra.local.pump import EventPump

log = logging.getLogger("catalog.local.events")


class Consumer(Protocol):
    def invoke(self, event: dict[str, Any]) -> Any: ...


@dataclass
class SourceStats:
    """What one event source did, for tests and for `make run`'s log."""

    invocations: int = 0
    records: int = 0  # records handed to the consumer (a retried record counts again)
    failed_invocations: int = 0  # the consumer raised
    failed_records: int = 0  # reported in batchItemFailures, or in a batch that raised
    sent_to_on_failure: int = 0  # stream records given up on (described on the queue)
    errors: list[str] = field(default_factory=list)  # the pump's own errors (AWS calls)


class Worker:
    """A polling thread for one event source."""

    def __init__(self, pump: EventPump, name: str) -> None:
        self.pump = pump
        self.name = name
        self.stats = SourceStats()
        self.busy = False
        # monotonic time at which the latest poll that found nothing had started
        self.idle_poll_started = -1.0
        self.thread = threading.Thread(target=self._run, name=f"events-{name}", daemon=True)

    def _run(self) -> None:
        while not self.pump.stopping.is_set():
            started = time.monotonic()
            try:
                found = self.poll()
            except Exception as error:  # keep pumping; the test or the developer sees it
                if self.pump.stopping.is_set():
                    return
                log.exception("event pump %s: poll failed", self.name)
                self.stats.errors.append(repr(error))
                found = False
            if not found:
                self.idle_poll_started = started
                self.pump.wait_for_work()

    def poll(self) -> bool:
        raise NotImplementedError

    def pending(self) -> bool:
        """Whether the source still holds something (beyond what `poll` saw)."""
        return False

    def invoke(self, consumer: str, event: dict[str, Any]) -> tuple[bool, Any]:
        self.stats.invocations += 1
        try:
            return True, self.pump.functions[consumer].invoke(event)
        except Exception:
            # Lambda logs the function error; the consumer's own log line is the useful one.
            log.warning("event pump %s: %s raised", self.name, consumer, exc_info=True)
            self.stats.failed_invocations += 1
            return False, None


def failed_items(result: Any, identifiers: Sequence[str]) -> set[str] | None:
    """The identifiers a consumer reported as failed; None when the whole batch failed.

    Lambda's rule: no response, or one without `batchItemFailures`, is full success; an
    item with a missing or unknown identifier fails the whole batch.
    """
    if not isinstance(result, Mapping) or not result.get("batchItemFailures"):
        return set()
    known = set(identifiers)
    failed: set[str] = set()
    for item in result["batchItemFailures"]:
        identifier = item.get("itemIdentifier") if isinstance(item, Mapping) else None
        if not identifier or identifier not in known:
            return None
        failed.add(identifier)
    return failed
