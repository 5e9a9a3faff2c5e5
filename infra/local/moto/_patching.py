"""What every patch goes through: moto's attributes found or a clear error, once per process."""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

# Each wrapper names the patches it carries, so that a test can read off a class which
# methods a patch really covers (not which ones a list says it should).
MARK = "__moto_patches__"


class MotoMismatchError(RuntimeError):
    """The installed moto is not the one these patches were written for."""


def _missing(where: str) -> MotoMismatchError:
    return MotoMismatchError(
        f"moto has no {where}, which infra/local/moto patches or relies on: moto changed; "
        "re-check that patch against the installed moto (docs/architecture.md)"
    )


def load(module: str, *names: str) -> tuple[Any, ...]:
    """`names` from moto's `module`, or an error naming what moto no longer has."""
    try:
        found = importlib.import_module(module)
    except ImportError as error:
        raise _missing(f"module {module}") from error
    require(found, *names)
    return tuple(getattr(found, name) for name in names)


def require(owner: Any, *names: str) -> None:
    """Fail before anything is patched if `owner` lacks an attribute a patch replaces or
    calls: a renamed method would otherwise leave moto half patched, or silently unpatched."""
    where = owner.__name__ if isinstance(owner, ModuleType) else _qualified(owner)
    for name in names:
        if not hasattr(owner, name):
            raise _missing(f"{where}.{name}")


def _qualified(owner: Any) -> str:
    return f"{owner.__module__}.{owner.__qualname__}"


def once(apply: Callable[[], None]) -> Callable[[], None]:
    """`apply` at most once per process, however many threads ask at the same time; a
    failed attempt (an error before anything was patched) may be retried."""
    lock = threading.Lock()
    done = False

    @functools.wraps(apply)
    def run() -> None:
        nonlocal done
        with lock:
            if not done:
                apply()
                done = True

    return run


def patches_of(value: Any) -> frozenset[str]:
    """The patches that wrapped `value` (a class attribute), outermost or not."""
    marks: frozenset[str] = getattr(value, MARK, frozenset())
    return marks


def mark(wrapper: Callable[..., Any], patch: str) -> Callable[..., Any]:
    """`wrapper` (made with functools.wraps) marked as carrying `patch` besides whatever the
    method it wraps carried."""
    inner = getattr(wrapper, "__wrapped__", None)
    setattr(wrapper, MARK, patches_of(inner) | {patch})
    return wrapper
