"""What the import service (`service.py`) and the worker (`worker.py`) are given: the
imports bucket, the chunk queue and the products store as ports (no boto here), and the form of
a job id. Both sides share them, so neither imports the other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

from catalog.images.schemas import UploadForm
from catalog.products.repository import Change
from catalog.products.schemas import Product

JOB_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


class Files(Protocol):
    """The imports bucket (`catalog.imports.storage.ImportFiles`)."""

    def presigned_post(
        self, key: str, content_type: str, max_bytes: int, expires_s: int, min_bytes: int = 1
    ) -> UploadForm: ...
    def presigned_get(self, key: str, expires_s: int, filename: str) -> str: ...
    def copy(self, source: str, target: str, if_match: str) -> bool: ...
    def stream(self, key: str, start: int = 0, end: int | None = None) -> Any: ...
    def put_text(self, key: str, text: str) -> None: ...
    def read_text(self, key: str) -> str: ...
    def delete(self, keys: list[str]) -> None: ...


class Queue(Protocol):
    def send(self, messages: list[dict[str, Any]]) -> None: ...


class Store(Protocol):
    """What the worker needs of the products repository."""

    def write_all(self, changes: Sequence[Change]) -> dict[int, Exception]: ...
    def ids_by_sku(self, skus: Sequence[str]) -> dict[str, str]: ...
    def get_many(self, product_ids: Sequence[str]) -> dict[str, Product]: ...
