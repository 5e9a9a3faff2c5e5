"""The function runtime: everything a Lambda function's init does around its imports.

Every handler's first import is `import catalog.runtime` (ruff's isort keeps it first:
the `runtime` section in pyproject.toml); importing any part of `catalog` runs `boot()`
(catalog/__init__.py), and a function's entry point is built last, by `ready()`. Nothing
else in the code depends on the order of imports. What `boot()` does:

1. Powertools loads lazily, in every process. `aws_lambda_powertools.event_handler`
   imports every resolver it has (AppSync, Bedrock agents, VPC Lattice...),
   `utilities.data_classes` all 33 of its event classes, `utilities.parameters` its SSM,
   AppConfig and DynamoDB providers. Here those packages load without running their
   `__init__`: a name they export is imported from its own submodule the first time it is
   asked for, so `from aws_lambda_powertools.event_handler import Response` loads only
   `api_gateway`. Importing a submodule directly would not help: Python runs the package's
   `__init__` first. What nothing reaches is left out of the layer (infra/layer_pruning.py).
   This needs an import hook (a meta-path finder), the one global measure kept: it changes
   no name's value, only when a module loads, and it saves the products function 23 to
   54 ms of its cold start and 5.6 MiB of its peak memory (make bench's "Powertools
   eager" row, docs/performance.md), where explicit lazy imports could save nothing.
2. In a Lambda sandbox only (the runtime sets AWS_LAMBDA_RUNTIME_API; the process serves
   one function and starts for it), until `ready()`:
   - the cyclic garbage collector pauses. Loading a function allocates some 120,000
     long-lived objects (classes, pydantic schemas, botocore's service model), none of them
     garbage, and CPython's collector would walk them several times during init;
     `ready()` turns it back on and freezes what init built (`gc.freeze`), so warm
     requests' collections do not walk it either. Reference counting frees memory as usual;
   - pydantic models defined meanwhile build their validators on first use (pydantic's
     `defer_build`): a function builds only what its requests use;
   - the AWS clients its first request needs (CATALOG_INIT_CLIENTS, from the function's
     topology entry) are created first, while little else is in memory: parsing their
     service models then raises the function's peak memory less.
   Outside a sandbox (tests, the local runner, scripts) none of these apply: they are
   per-process settings, and such a process runs more than one function's init.
3. Where the function's version has SnapStart (prod's API functions: Lambda sets
   AWS_LAMBDA_INITIALIZATION_TYPE=snap-start for that init), Lambda runs the init once, at
   deploy, snapshots the environment, and resumes every new environment from that one
   snapshot. So what init made that must differ per environment is made again, by hooks
   registered with `snapshot-restore-py` (imported only then: a function without SnapStart
   loads nothing more). Before the snapshot and after each restore, every `on_restore`
   callable runs: connections pooled by the AWS clients are closed (none is shared between
   environments, and none survives the hours a snapshot may wait), and so is each cached
   record stamped with the monotonic clock, which a restored environment may not advance
   over the time spent in the snapshot (the revocation cache). After a restore, Python's
   `random` is also reseeded from the kernel: its state was seeded once, at init, and would
   otherwise be every environment's (botocore's retry jitter, Powertools' log sampling).
   Nothing else random is made at init: ULIDs, `uuid4` and `secrets` (transaction tokens,
   webhook secrets) draw from `os.urandom` at each call, the cursor key is read from Secrets
   Manager on first use, and the AWS clients' credentials refresh themselves (Lambda gives a
   SnapStart function credentials by its container endpoint, not as variables).
"""

from __future__ import annotations

import ast
import gc
import importlib
import importlib.abc
import os
import sys
import threading
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec, PathFinder
from importlib.util import spec_from_file_location
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

LAZY_PACKAGES = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.data_classes",
    "aws_lambda_powertools.utilities.parameters",
)
SANDBOX_VARIABLE = "AWS_LAMBDA_RUNTIME_API"  # set by the Lambda runtime, never locally
# How Lambda runs this init: "on-demand", "provisioned-concurrency" or "snap-start" (the
# init of a version that is snapshotted once and restored for every new environment).
INITIALIZATION_VARIABLE = "AWS_LAMBDA_INITIALIZATION_TYPE"
SNAPSTART = "snap-start"

_lock = threading.Lock()
_booted = False
_init: dict[str, Any] | None = None  # while a sandbox's init runs: what ready() restores
_on_restore: list[Callable[[], object]] = []  # what `on_restore` registered, in order


def in_sandbox() -> bool:
    """Whether this process is a Lambda execution environment (one function, fresh)."""
    return SANDBOX_VARIABLE in os.environ


def boot() -> None:
    """Start the function's init (idempotent: the first call in a process does the work)."""
    global _booted, _init
    with _lock:
        if _booted:
            return
        _booted = True
        if not any(isinstance(finder, _LazyPackages) for finder in sys.meta_path):
            sys.meta_path.insert(0, _LazyPackages())
        if not in_sandbox():
            return
        gc.disable()
        _init = {"pydantic_config": _defer_model_builds()}
        if os.environ.get(INITIALIZATION_VARIABLE) == SNAPSTART:
            register_snapshot_hooks()
    _create_clients(os.environ.get("CATALOG_INIT_CLIENTS", ""))


Refresh = TypeVar("Refresh", bound=Callable[[], object])


def on_restore(refresh: Refresh) -> Refresh:
    """Run `refresh` before a SnapStart snapshot is taken and in every environment restored
    from it: for what init made that environments must not share (see 3. above). Usable as a
    decorator; registering costs a list append, in every process."""
    _on_restore.append(refresh)
    return refresh


def register_snapshot_hooks() -> None:
    """Hand this module's hooks to the Lambda runtime (which calls snapshot-restore-py's
    registries: the before-snapshot ones in reverse order of registration, then, in each
    restored environment, the after-restore ones in order)."""
    from snapshot_restore_py import register_after_restore, register_before_snapshot

    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)


def before_snapshot() -> None:
    """Leave nothing in the snapshot that one environment may use and the next must not."""
    for refresh in list(_on_restore):
        refresh()


def after_restore() -> None:
    """This environment was resumed from the snapshot: make its own what init made once."""
    import random

    random.seed()  # from os.urandom, as at interpreter start
    for refresh in list(_on_restore):
        refresh()


Handler = TypeVar("Handler", bound=Callable[..., Any])


def ready(handler: Handler) -> Handler:
    """The function's init is over (its module's last statement builds the entry point
    through this): freeze what init built, turn the collector back on, restore pydantic's
    defaults. Returns `handler` unchanged."""
    global _init
    with _lock:
        if _init is not None:
            from pydantic import BaseModel

            BaseModel.model_config = _init["pydantic_config"]
            _init = None
            gc.freeze()
            gc.enable()
    return handler


def _defer_model_builds() -> Any:
    """Every pydantic model defined from now on (ours, and those Powertools creates for each
    route's parameters) builds its validator and serializer the first time it is used, not
    when its class is defined: each class copies its config from `BaseModel`'s when it is
    created. Returns the config to restore."""
    from pydantic import BaseModel, ConfigDict

    previous = BaseModel.model_config
    BaseModel.model_config = ConfigDict(**previous, defer_build=True)
    return previous


def _create_clients(services: str) -> None:
    for service in filter(None, (name.strip() for name in services.split(","))):
        if service == "dynamodb":
            from catalog.core.dynamo import connection

            connection().client  # noqa: B018 - the property creates and keeps the client
        else:
            from catalog.core import aws

            aws.create_now(service)


# --- lazy Powertools packages -------------------------------------------------------------


def exports(package: str, init_file: str) -> dict[str, tuple[str, str]]:
    """What a package's `__init__` re-exports: name -> (submodule, name in the submodule),
    read from its `from ... import ...` statements."""
    found: dict[str, tuple[str, str]] = {}
    for node in ast.parse(Path(init_file).read_bytes()).body:
        if not isinstance(node, ast.ImportFrom) or node.module is None:
            continue
        if node.level == 0:
            module = node.module
        else:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            module = f"{base}.{node.module}"
        for alias in node.names:
            found[alias.asname or alias.name] = (module, alias.name)
    return found


class _LazyInit(importlib.abc.Loader):
    """Loads a package without running its `__init__`: its exported names load on demand."""

    def create_module(self, spec: ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        package, names = module.__name__, exports(module.__name__, str(module.__file__))

        def load(attribute: str) -> object:
            if attribute not in names:
                raise AttributeError(f"module {package!r} has no attribute {attribute!r}")
            submodule, original = names[attribute]
            value = getattr(importlib.import_module(submodule), original)
            setattr(module, attribute, value)  # later lookups find it directly
            return value

        module.__getattr__ = load  # type: ignore[method-assign]
        module.__all__ = list(names)  # type: ignore[attr-defined]


class _LazyPackages(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in LAZY_PACKAGES:
            return None
        real = PathFinder.find_spec(fullname, path)
        if real is None or real.origin is None:
            return None
        return spec_from_file_location(
            fullname,
            real.origin,
            loader=_LazyInit(),
            submodule_search_locations=real.submodule_search_locations,
        )
