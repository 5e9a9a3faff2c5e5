"""Local Lambda: loads a topology function's handler and invokes it like the Lambda runtime.

Each function keeps a pool of instances; an instance is the handler module loaded on its
own (its own resolver and globals, as in a fresh Lambda sandbox) and serves one event at a
time. Concurrent requests get more instances, so concurrency behaves as in the cloud.
"""

from __future__ import annotations

import importlib.util
import itertools
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from catalog.core import settings
from catalog.core.observability import logger
from infra import layer_pruning
from infra.topology import Function

ROOT = Path(__file__).resolve().parents[2]
_instance_numbers = itertools.count(1)


@dataclass
class LambdaContext:
    """The attributes of the Lambda runtime's context object that handlers read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    region: str = "us-east-1"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self.started
        return max(0, int((self.timeout_s - elapsed) * 1000))


Handler = Callable[[dict[str, Any], Any], Any]


class LocalFunction:
    """One topology function, invoked in-process with Lambda's one-event-per-instance rule."""

    def __init__(
        self,
        spec: Function,
        physical_name: str,
        region: str,
        environment: frozenset[str] | None = None,
    ) -> None:
        self.spec = spec
        self.physical_name = physical_name
        self.region = region
        # The names of the variables the topology gives this function: its resources'
        # (tables, buckets, queues, topics) are the only ones it finds, as in the cloud,
        # though the process's environment holds every function's.
        self.environment = environment
        self._idle: list[Handler] = []
        self._lock = threading.Lock()
        self.cold_starts = 0

    def _load_instance(self) -> Handler:
        layer_pruning.guard()  # what the layer leaves out cannot be imported here either
        path = ROOT / self.spec.handler_file
        name = f"_lambda_{self.spec.name}_{next(_instance_numbers)}"
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module: ModuleType = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        self.cold_starts += 1
        handler: Handler = getattr(module, self.spec.handler_attribute)
        return handler

    def invoke(self, event: dict[str, Any]) -> Any:
        scope = settings.FUNCTION_ENVIRONMENT.set(self.environment)
        try:
            return self._invoke(event)
        finally:
            settings.FUNCTION_ENVIRONMENT.reset(scope)

    def _invoke(self, event: dict[str, Any]) -> Any:
        with self._lock:
            handler = self._idle.pop() if self._idle else None
        cold = handler is None
        if handler is None:
            handler = self._load_instance()
        context = LambdaContext(
            self.physical_name, self.spec.memory_mb, self.spec.timeout_s, region=self.region
        )
        # Every function here shares the process's one Powertools Logger, whose Lambda context
        # keys each invocation overwrites for all threads; keys set for this thread win over
        # those, so each line names the function (and request) that wrote it.
        logger.thread_safe_append_keys(**_context_keys(context, cold, event))
        try:
            return handler(event, context)
        finally:
            logger.thread_safe_clear_keys()
            with self._lock:
                self._idle.append(handler)


def _context_keys(context: LambdaContext, cold: bool, event: dict[str, Any]) -> dict[str, Any]:
    """What Powertools' inject_lambda_context writes into every line of an invocation."""
    keys: dict[str, Any] = {
        "cold_start": cold,
        "function_name": context.function_name,
        "function_memory_size": context.memory_limit_in_mb,
        "function_arn": context.invoked_function_arn,
        "function_request_id": context.aws_request_id,
    }
    request = event.get("requestContext")
    if isinstance(request, dict) and request.get("requestId"):
        keys["correlation_id"] = request["requestId"]  # as instrument_api sets it
    return keys
