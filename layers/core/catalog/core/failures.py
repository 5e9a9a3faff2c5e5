"""Unexpected errors: each logged once, with a fingerprint that groups its occurrences.

The fingerprint names what failed and where in our code: the exception's type and the
innermost frame of the catalog's own code (the layer's `catalog/` modules or a function's
handler), by module and function, without line numbers, so an unrelated edit of the file
keeps it. `fingerprint` is its first 12 hex digits of SHA-256 (what the stack's metric
filter counts per value and its Logs Insights queries group by); `failure` is the readable
form, e.g. `KeyError at catalog/products/service.py:update`.
"""

from __future__ import annotations

import hashlib
import traceback
from pathlib import PurePath

from catalog.core.observability import logger


def _ours(filename: str) -> str | None:
    """`filename` as a name that is the same in Lambda and locally, if it is our code."""
    parts = PurePath(filename).parts
    if "catalog" in parts:
        return "/".join(parts[len(parts) - parts[::-1].index("catalog") - 1 :])
    if parts and parts[-1] == "handler.py":  # a function's entry point (/var/task/handler.py)
        return "handler.py"
    return None


def describe(error: BaseException) -> tuple[str, str]:
    """(fingerprint, failure) of `error`."""
    kind = type(error)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    where = None
    for frame in traceback.extract_tb(error.__traceback__):
        module = _ours(frame.filename)
        if module is not None:
            where = f"{module}:{frame.name}"
    failure = f"{name} at {where}" if where else name
    return hashlib.sha256(failure.encode()).hexdigest()[:12], failure


def log_unexpected(message: str, error: BaseException, route: str | None) -> str:
    """Log `error` with its traceback, fingerprint and route; return the fingerprint."""
    fingerprint, failure = describe(error)
    logger.error(
        message,
        exc_info=error,
        extra={"fingerprint": fingerprint, "failure": failure, "route": route},
    )
    return fingerprint
