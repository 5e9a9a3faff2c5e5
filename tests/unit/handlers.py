"""Loads a function's handler file as Lambda does (a module from its path), for unit tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_handler(folder: str, as_name: str) -> ModuleType:
    """functions/<folder>/handler.py, executed afresh as module `as_name`."""
    spec = importlib.util.spec_from_file_location(
        as_name, ROOT / "functions" / folder / "handler.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
