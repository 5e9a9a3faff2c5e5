"""The local event pump: SQS batches and DynamoDB stream records to the topology's consumers.

It plays Lambda's event source mappings against moto server, with their semantics:

- SQS: batches of at most `batch_size` messages in the real SQS event shape; messages the
  consumer reports in `batchItemFailures` (or the whole batch, when it raises or answers
  with an unusable identifier) stay in the queue and reappear after the visibility
  timeout; the queue's redrive policy moves a message to its dead-letter queue after
  `max_receives` receives (moto applies it on receive, as SQS does).
- DynamoDB streams: records in shard order, in batches of `batch_size`, in the real
  stream event shape; a failing batch is retried, split in halves first when
  `bisect_on_error` (halving does not use up retries, so a poison record ends up alone),
  and a batch whose retries are spent is described on the `on_failure` queue (the same
  record Lambda sends: shard, sequence numbers, condition), then skipped. A consumer may
  also answer `batchItemFailures` with sequence numbers: the batch then counts as failed
  from the earliest of them (Lambda's checkpoint rule).

Only the pacing differs from the cloud (polls every fraction of a second; a short pause
before a stream retry). `drain()` waits until nothing is left to deliver, for tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence

import boto3

from infra import topology
from infra.local.pump.sqs import QueueWorker, sqs_record
from infra.local.pump.streams import StreamWorker, stream_record
from infra.local.pump.worker import Consumer, SourceStats, Worker, failed_items


class EventPump:
    """One polling thread per event source of the topology (or of the sources given)."""

    def __init__(
        self,
        functions: Mapping[str, Consumer],
        names: Mapping[str, Mapping[str, str]],
        *,
        endpoint_url: str,
        region: str,
        queue_sources: Sequence[topology.QueueSource] | None = None,
        streams: Sequence[topology.StreamSource] | None = None,
        poll_interval_s: float = 0.25,
        retry_pause_s: float = 0.05,
    ) -> None:
        self.functions = functions
        self.names = names
        self.region = region
        self.poll_interval_s = poll_interval_s
        self.retry_pause_s = retry_pause_s
        self.stopping = threading.Event()
        self._wake = threading.Condition()
        session = boto3.session.Session(region_name=region)
        self.sqs = session.client("sqs", endpoint_url=endpoint_url)
        self.dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
        self.streams = session.client("dynamodbstreams", endpoint_url=endpoint_url)
        sources = topology.QUEUE_SOURCES if queue_sources is None else queue_sources
        stream_sources = topology.STREAMS if streams is None else streams
        self.workers: list[Worker] = [QueueWorker(self, s) for s in sources]
        self.workers += [StreamWorker(self, s) for s in stream_sources]

    def stats(self) -> dict[str, SourceStats]:
        return {worker.name: worker.stats for worker in self.workers}

    def start(self) -> EventPump:
        for worker in self.workers:
            worker.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask every worker to stop and wait for them together, `timeout` seconds in all
        (not per worker: with a dozen sources busy, Ctrl-C took minutes). The workers are
        daemon threads: one still inside a batch ends with the process."""
        self.stopping.set()
        self.wake()
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            worker.thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def wake(self) -> None:
        """Make every idle worker poll now (instead of at its next interval)."""
        with self._wake:
            self._wake.notify_all()

    def wait_for_work(self) -> None:
        with self._wake:
            self._wake.wait(self.poll_interval_s)

    def _idle_since(self, moment: float) -> bool:
        # The workers' own flags first: asking each queue for its counts is an AWS call,
        # worth making only once every worker has come back empty-handed.
        return all(not w.busy and w.idle_poll_started >= moment for w in self.workers) and not any(
            w.pending() for w in self.workers
        )

    def drain(self, timeout: float = 30.0) -> None:
        """Return once every source is empty and every consumer idle; else TimeoutError.

        Idle means: each worker has, since we started looking, finished a poll that found
        nothing, and its queue holds no message (visible, in flight or delayed). Checked
        twice in a row, so that work one consumer hands to the next is seen.
        """
        deadline = time.monotonic() + timeout
        confirmations = 0
        while confirmations < 2:
            moment = time.monotonic()
            self.wake()  # once: idle workers poll now instead of at their next interval
            while not self._idle_since(moment):
                if time.monotonic() > deadline:
                    busy = [w.name for w in self.workers if w.busy or w.pending()]
                    raise TimeoutError(f"event pump still busy after {timeout}s: {busy}")
                time.sleep(0.1)
            confirmations += 1

    def wait_until(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        """Poll `condition` while the pump works; TimeoutError if it never holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            time.sleep(0.05)


__all__ = [
    "EventPump",
    "QueueWorker",
    "SourceStats",
    "StreamWorker",
    "failed_items",
    "sqs_record",
    "stream_record",
]
