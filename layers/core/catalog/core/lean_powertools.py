"""Powertools packages whose `__init__` loads far more than any function uses.

`aws_lambda_powertools.event_handler` imports every resolver it has (AppSync, AppSync
events with asyncio, Bedrock agents, VPC Lattice, Lambda function URLs...);
`utilities.data_classes` all 33 of its event source classes; `utilities.parameters` its
SSM, AppConfig and DynamoDB providers. Our API functions use the REST resolver and the few
event classes it needs, the consumers two or three record classes, the products function
the secrets provider. The rest cost the products function ~80 of its ~610 modules at cold
start (make bench), and the layer the bytes of modules no function reaches.

`install()` makes these packages load without running their `__init__`: a name a package
exports is imported from its own submodule the first time something asks for it, so
`from aws_lambda_powertools.event_handler import Response` works as before and loads only
`api_gateway`. `catalog/__init__.py` calls it, and every handler imports `catalog` first
(catalog.core.coldstart), before any Powertools module; a test loads every function's
handler in a fresh process with the layer's pruning enforced. The submodules nothing
reaches are left out of the layer (infra/layer_pruning.py).
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import sys
import threading
from collections.abc import Sequence
from importlib.machinery import ModuleSpec, PathFinder
from importlib.util import spec_from_file_location
from pathlib import Path
from types import ModuleType

LAZY_PACKAGES = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.data_classes",
    "aws_lambda_powertools.utilities.parameters",
)


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


_installing = threading.Lock()


def install() -> None:
    """Make the packages load lazily from their next import on (idempotent, thread-safe).

    Nothing is imported here: a process that never imports Powertools (a script using one
    of our modules) is unaffected. A package imported before is left as it is."""
    with _installing:
        if not any(isinstance(finder, _LazyPackages) for finder in sys.meta_path):
            sys.meta_path.insert(0, _LazyPackages())
