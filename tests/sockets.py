"""Replacing socket functions for one module only.

`monkeypatch.setattr(module.socket, "getaddrinfo", fake)` patches the socket module itself,
for every thread of the process: a local system's event pump on the same worker then
resolves through the fake, and its threads die of it. `patch_socket` gives `module` a
socket module of its own instead, with the replacements, leaving everyone else's alone.
"""

from __future__ import annotations

import socket
from types import ModuleType
from typing import Any

import pytest


class _Socket:
    """The socket module, but for the names replaced."""

    def __init__(self, **replacements: Any) -> None:
        self.__dict__.update(replacements)

    def __getattr__(self, name: str) -> Any:
        return getattr(socket, name)


def patch_socket(monkeypatch: pytest.MonkeyPatch, module: ModuleType, **replacements: Any) -> None:
    """`module.socket` with `replacements` (e.g. getaddrinfo=...), for this test only."""
    monkeypatch.setattr(module, "socket", _Socket(**replacements))
