"""The numbered migration modules of `steps/`: found, imported, checked and checksummed.

A module `NNNN_snake_name.py` holds `DESCRIPTION` (one line), `KINDS` (the `kind`s of the
items its steps touch), `forward(item) -> writes` and optionally `backward(item) -> writes`.
Its number is the `schema_version` the items it migrates reach. Numbers run 1, 2, 3... with
no gap; the checksum (of the module's source) tells an edited migration apart.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from catalog.migrations.errors import MigrationError
from catalog.migrations.model import Step

STEPS_DIR = Path(__file__).parent / "steps"
_NAME = re.compile(r"^(\d{4})_([a-z0-9]+(?:_[a-z0-9]+)*)$")
BASE = "0000"  # `down --to 0000`: before the first migration


@dataclass(frozen=True)
class Migration:
    id: str  # the module's name, e.g. "0002_search_words_v2"
    number: int  # the schema_version its forward step writes
    description: str
    kinds: tuple[str, ...]
    forward: Step
    backward: Step | None
    checksum: str


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load(path: Path, number: int) -> Migration:
    module_name = f"catalog.migrations.steps.m{path.stem}"
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except Exception as error:
        raise MigrationError(
            f"migration {path.stem} does not import ({type(error).__name__}: {error}): "
            "fix the module or remove it"
        ) from None
    forward = getattr(module, "forward", None)
    description = getattr(module, "DESCRIPTION", None)
    kinds = getattr(module, "KINDS", None)
    if not callable(forward) or not isinstance(description, str) or not kinds:
        raise MigrationError(
            f"migration {path.stem} must define DESCRIPTION, KINDS and forward(item): "
            "see the skeleton `new` writes"
        )
    backward = getattr(module, "backward", None)
    return Migration(
        id=path.stem,
        number=number,
        description=description,
        kinds=tuple(kinds),
        forward=forward,
        backward=backward if callable(backward) else None,
        checksum=checksum(path),
    )


def discover(directory: Path | None = None) -> list[Migration]:
    """Every migration in `directory` (default: steps/), in order; MigrationError when a
    name is malformed, a number is missing or repeated, or a module does not import."""
    directory = directory or STEPS_DIR
    paths = sorted(p for p in directory.glob("*.py") if p.name != "__init__.py")
    numbered: list[tuple[int, Path]] = []
    for path in paths:
        match = _NAME.match(path.stem)
        if not match:
            raise MigrationError(
                f"{path.name} is not named NNNN_snake_name.py: rename it (or use `migrate new`)"
            )
        numbered.append((int(match.group(1)), path))
    for expected, (number, path) in enumerate(numbered, start=1):
        if number != expected:
            raise MigrationError(
                f"migration numbers must run 1, 2, 3... without gaps: expected {expected:04d}, "
                f"found {path.name}: renumber it"
            )
    return [_load(path, number) for number, path in numbered]


def resolve(migrations: list[Migration], target: str) -> int:
    """How many migrations are in place once `target` (an id or its number) is the last
    one applied; MigrationError for an id there is none of."""
    if target in (BASE, "0"):
        return 0
    for index, migration in enumerate(migrations, start=1):
        if target in (migration.id, migration.id[:4]) or target.lstrip("0") == str(index):
            return index
    known = ", ".join(m.id for m in migrations) or "none"
    raise MigrationError(f"there is no migration {target!r} (known: {known}; 0000 = before all)")


def next_path(name: str, directory: Path | None = None) -> Path:
    """Where `migrate new NAME` writes: the next number, NAME as snake case."""
    directory = directory or STEPS_DIR
    snake = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not snake:
        raise MigrationError(f"{name!r} gives no usable module name: use letters and digits")
    taken = [int(p.name[:4]) for p in directory.glob("[0-9][0-9][0-9][0-9]_*.py")]
    return directory / f"{max(taken, default=0) + 1:04d}_{snake}.py"
