"""The stored item layout, generated from the code: `make layout` writes it, the tests check it.

What is described, per table and per pynamodb model (every `TableModel` subclass in
`catalog`): the kinds of item it stores with the shape of each key (the model's declared
`KEYS`), every attribute (stored name, type, nullability, default, key role, element
types; `schema_version` among them, and a `SCHEMA_VERSION` class constant if declared),
its indexes, and, for models that derive what they store from another record
(`DERIVED_BY`: index keys, folded names, price cents, tag and word copies), a fingerprint
of the code that derives it: the named functions and every `catalog` function and constant
they reach, compared as syntax trees (comments, docstrings and formatting do not count).
Beside it, the id of the latest migration in `catalog/migrations/steps/`.

Why it fails: the stored layout changes only with a migration that moves existing items to
it. `make layout` rewrites the file when a new migration came with the change, and refuses
when the latest migration is still the one recorded, unless the change only adds models
(new item kinds, or a new table): there are no stored items of those to move. `--check`
(the tests, pre-commit) fails when the file is not what the code generates.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib
import inspect
import json
import pkgutil
import re
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "layers" / "core" / "catalog"
LAYOUT_FILE = ROOT / "docs" / "item-layout.json"
STEPS = CATALOG / "migrations" / "steps"
STEP_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.py$")
GENERATED_BY = "make layout (scripts/item_layout.py): do not edit by hand"

REGENERATE = "the item layout description is out of date: run `make layout` and commit it"
ADD_MIGRATION = (
    "the stored layout changed: add a migration with `python -m cli migrate new NAME`, "
    "then run `make layout`"
)


class LayoutError(Exception):
    """The models cannot be described (a key without a declared shape, a kind unknown...)."""


# --- the models -----------------------------------------------------------------------------


def catalog_modules() -> Iterator[types.ModuleType]:
    """Every module of the `catalog` package but the migration steps (they describe the
    past; the layout is the code's present)."""
    import catalog

    for info in pkgutil.walk_packages(catalog.__path__, "catalog."):
        if info.name.startswith("catalog.migrations.steps") or info.name.endswith("__main__"):
            continue  # (a `__main__` runs a command when imported)
        try:
            yield importlib.import_module(info.name)
        except ImportError as error:
            raise LayoutError(f"{info.name} does not import ({error}): fix it first") from None


def table_models() -> list[type[Any]]:
    """Every concrete `TableModel` subclass (names starting with `_` are shared bases)."""
    from catalog.core.dynamo import TableModel

    modules = list(catalog_modules())  # importing them defines every model
    assert modules
    found: dict[str, type[Any]] = {}
    pending = list(TableModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if not model.__name__.startswith("_") and model.__module__.startswith("catalog."):
            found[f"{model.__module__}.{model.__qualname__}"] = model
    return [found[name] for name in sorted(found)]


def table_of(model: type[Any]) -> str:
    """The model's logical table (its `TableName`), without reading any setting."""
    table_name = inspect.getattr_static(model.Meta, "table_name")
    logical = getattr(table_name, "logical", table_name)
    if not isinstance(logical, str):
        raise LayoutError(f"{model.__qualname__}: Meta.table_name is neither TableName nor str")
    return logical


def describe_attribute(attribute: Any) -> dict[str, Any]:
    from pynamodb.attributes import ListAttribute, MapAttribute

    described: dict[str, Any] = {"type": type(attribute).__name__, "dynamodb": attribute.attr_type}
    if attribute.is_hash_key:
        described["key"] = "partition"
    elif attribute.is_range_key:
        described["key"] = "sort"
    if attribute.null:
        described["null"] = True
    default = attribute.default
    if default is not None:
        described["default"] = (
            getattr(default, "__qualname__", repr(default)) if callable(default) else default
        )
    if isinstance(attribute, ListAttribute) and attribute.element_type is not None:
        element = attribute.element_type
        described["of"] = element.__name__
        if issubclass(element, MapAttribute):
            described["fields"] = describe_attributes(element)
    elif isinstance(attribute, MapAttribute) and type(attribute) is not MapAttribute:
        described["fields"] = describe_attributes(type(attribute))
    return described


def describe_attributes(container: type[Any]) -> dict[str, Any]:
    """A model's (or a map attribute's) attributes by stored name, sorted."""
    attributes = container.get_attributes()
    return {
        attribute.attr_name: describe_attribute(attribute)
        for attribute in sorted(attributes.values(), key=lambda a: a.attr_name)
    }


def describe_indexes(model: type[Any]) -> dict[str, Any]:
    from pynamodb.indexes import Index

    indexes: dict[str, Any] = {}
    for _name, index in inspect.getmembers(model, lambda value: isinstance(value, Index)):
        keys = {a.attr_name: a for a in type(index).__dict__.values() if hasattr(a, "attr_name")}
        partition = [name for name, a in keys.items() if a.is_hash_key]
        sort = [name for name, a in keys.items() if a.is_range_key]
        indexes[index.Meta.index_name] = {
            "partition": partition[0] if partition else None,
            "sort": sort[0] if sort else None,
            "projection": type(index.Meta.projection).__name__,
        }
    return dict(sorted(indexes.items()))


def key_attributes(model: type[Any], index_keys: set[str]) -> set[str]:
    """The stored names of the model's table keys and of the table's index keys it holds."""
    attributes = model.get_attributes().values()
    return {a.attr_name for a in attributes if a.is_hash_key or a.is_range_key} | (
        index_keys & {a.attr_name for a in attributes}
    )


def describe_kinds(model: type[Any], index_keys: set[str]) -> dict[str, dict[str, str]]:
    """The model's declared `KEYS`, checked against its attributes: every kind gives a shape
    to each table key and to each index key it always holds, and shapes nothing else."""
    where = f"{model.__module__}.{model.__qualname__}"
    kinds = model.__dict__.get("KEYS")
    if not isinstance(kinds, dict) or not kinds:
        raise LayoutError(f"{where}: declare its item kinds and key shapes in KEYS")
    attributes = {a.attr_name: a for a in model.get_attributes().values()}
    table_keys = {name for name, a in attributes.items() if a.is_hash_key or a.is_range_key}
    every_key = key_attributes(model, index_keys)
    for kind, shapes in kinds.items():
        unknown = set(shapes) - every_key
        if unknown:
            raise LayoutError(f"{where}: KEYS[{kind!r}] shapes {sorted(unknown)}, not keys")
        missing = table_keys - set(shapes)
        if missing:
            raise LayoutError(f"{where}: KEYS[{kind!r}] gives no shape to {sorted(missing)}")
        for name in every_key - set(shapes):
            if not attributes[name].null:  # a copy leaves out the index keys it is not in
                raise LayoutError(f"{where}: KEYS[{kind!r}] gives no shape to {name!r}")
    return {kind: dict(sorted(shapes.items())) for kind, shapes in sorted(kinds.items())}


# --- the code that derives stored values --------------------------------------------------


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return tree


def canonical(node: Any) -> str:
    """A syntax tree as text, the same on every Python this project supports: node types and
    their fields, leaving out empty ones (3.13's `ast.dump` omits them, 3.12 added some)."""
    if isinstance(node, ast.AST):
        fields = []
        for name in node._fields:
            value = getattr(node, name, None)
            if value is None or value == []:
                continue
            fields.append(f"{name}={canonical(value)}")
        return f"{type(node).__name__}({', '.join(fields)})"
    if isinstance(node, list):
        return f"[{', '.join(canonical(item) for item in node)}]"
    return repr(node)


def source_fingerprint(source: str) -> str:
    """What a function's code does, as a digest: its syntax tree without docstrings."""
    return _digest(canonical(_without_docstrings(ast.parse(textwrap.dedent(source)))))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _constant_text(value: Any) -> str | None:
    """How a module-level constant a derivation reads is compared (None: not a constant)."""
    if isinstance(value, re.Pattern):
        return f"re.compile({value.pattern!r}, {value.flags})"
    if isinstance(value, str | int | float | bool | bytes | tuple | frozenset):
        return repr(value)
    return None


def _referenced(function: types.FunctionType, tree: ast.AST) -> Iterator[tuple[str, Any]]:
    """(qualified name, object) of each `catalog` function or constant `function` names."""
    namespace = function.__globals__
    for node in ast.walk(tree):
        value: Any = None
        if isinstance(node, ast.Name) and node.id in namespace:
            value, name = namespace[node.id], node.id
            module = function.__module__
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and isinstance(namespace.get(node.value.id), types.ModuleType)
        ):
            owner = namespace[node.value.id]
            module, name = owner.__name__, node.attr
            value = getattr(owner, name, None)
        else:
            continue
        value = inspect.unwrap(value) if callable(value) else value
        if isinstance(value, types.FunctionType):
            if value.__module__.startswith("catalog."):
                yield f"{value.__module__}.{value.__qualname__}", value
        elif module.startswith("catalog.") and _constant_text(value) is not None:
            yield f"{module}.{name}", value


def derivation(entry_points: tuple[str, ...]) -> dict[str, str]:
    """Qualified name -> fingerprint of each function and constant the entry points reach."""
    found: dict[str, str] = {}
    pending: list[tuple[str, Any]] = []
    for dotted in entry_points:
        module_name, _, attribute = dotted.rpartition(".")
        value = getattr(importlib.import_module(module_name), attribute, None)
        if not isinstance(value, types.FunctionType):
            raise LayoutError(f"DERIVED_BY names {dotted!r}, which is not a function")
        pending.append((dotted, value))
    while pending:
        name, value = pending.pop()
        if name in found:
            continue
        if not isinstance(value, types.FunctionType):
            found[name] = _digest(str(_constant_text(value)))
            continue
        source = inspect.getsource(value)
        found[name] = source_fingerprint(source)
        tree = ast.parse(textwrap.dedent(source))
        pending.extend(_referenced(value, tree))
    return dict(sorted(found.items()))


# --- the description ------------------------------------------------------------------------


def describe_model(model: type[Any], index_keys: set[str]) -> dict[str, Any]:
    described: dict[str, Any] = {
        "kinds": describe_kinds(model, index_keys),
        "attributes": describe_attributes(model),
        "indexes": describe_indexes(model),
    }
    declared_version = getattr(model, "SCHEMA_VERSION", None)
    if isinstance(declared_version, int):  # a class constant, beside any attribute of it
        described["schema_version"] = declared_version
    entry_points = model.__dict__.get("DERIVED_BY")
    if entry_points:
        described["derived_by"] = derivation(tuple(entry_points))
    return described


def describe_tables(models: list[type[Any]]) -> dict[str, Any]:
    """Per table (from the topology: keys, indexes, TTL), the items each model stores."""
    from infra import topology

    tables: dict[str, Any] = {}
    for model in models:
        name = table_of(model)
        if name not in topology.TABLES:
            raise LayoutError(f"{model.__qualname__}: no table {name!r} in the topology")
        spec = topology.TABLES[name]
        table = tables.setdefault(
            name,
            {
                "partition_key": spec.partition_key,
                "sort_key": spec.sort_key,
                "indexes": {
                    i.name: {"partition": i.partition_key, "sort": i.sort_key} for i in spec.indexes
                },
                "ttl": spec.ttl_attribute,
                "items": {},
            },
        )
        index_keys = {k for i in spec.indexes for k in (i.partition_key, i.sort_key) if k}
        table["items"][f"{model.__module__}.{model.__qualname__}"] = describe_model(
            model, index_keys
        )
    return dict(sorted(tables.items()))


def latest_migration(steps: Path = STEPS) -> str | None:
    """The latest migration's module name (`NNNN_name`), or None when there is none yet."""
    if not steps.is_dir():
        return None
    names = sorted(p.stem for p in steps.iterdir() if STEP_NAME.match(p.name))
    return names[-1] if names else None


def generate() -> dict[str, Any]:
    """The description of the stored layout as the code has it now (without the id)."""
    return {"tables": describe_tables(table_models())}


def document(layout: dict[str, Any], migration: str | None) -> dict[str, Any]:
    return {"generated_by": GENERATED_BY, "latest_migration": migration, **layout}


def render(content: dict[str, Any]) -> str:
    return json.dumps(content, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def read(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    content: dict[str, Any] = json.loads(path.read_text())
    return content


def layout_of(content: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in content.items() if k not in ("generated_by", "latest_migration")}


def only_added(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether `new` is `old` plus models (and tables) that `old` does not have, every
    model and table setting of `old` unchanged."""
    if {k: v for k, v in old.items() if k != "tables"} != {
        k: v for k, v in new.items() if k != "tables"
    }:
        return False
    new_tables = new.get("tables", {})
    for name, table in old.get("tables", {}).items():
        now = new_tables.get(name)
        if now is None:
            return False
        if {k: v for k, v in table.items() if k != "items"} != {
            k: v for k, v in now.items() if k != "items"
        }:
            return False
        items = now.get("items", {})
        if any(items.get(model) != described for model, described in table["items"].items()):
            return False
    return True


def _needs_migration(
    committed: dict[str, Any], layout: dict[str, Any], migration: str | None
) -> bool:
    old = layout_of(committed)
    return (
        old != layout
        and committed.get("latest_migration") == migration
        and not only_added(old, layout)
    )


def check(path: Path, layout: dict[str, Any], migration: str | None) -> str | None:
    """What is wrong with the committed description (None: it is what the code generates)."""
    committed = read(path)
    if committed is None:
        return f"{path.relative_to(ROOT)} is missing: run `make layout` and commit it"
    if _needs_migration(committed, layout, migration):
        return ADD_MIGRATION
    if path.read_text() != render(document(layout, migration)):
        return REGENERATE
    return None


def write(path: Path, layout: dict[str, Any], migration: str | None) -> str | None:
    """Rewrite the description; refuse (returning why) when the layout changed while the
    latest migration is the one already recorded."""
    committed = read(path)
    if committed is not None and _needs_migration(committed, layout, migration):
        return ADD_MIGRATION
    path.write_text(render(document(layout, migration)))
    return None


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    args = parser.parse_args(argv)
    try:
        layout, migration = generate(), latest_migration()
    except LayoutError as error:
        out(f"make layout: {error}")
        return 1
    problem = (
        check(LAYOUT_FILE, layout, migration)
        if args.check
        else write(LAYOUT_FILE, layout, migration)
    )
    if problem is not None:
        out(problem)
        return 1
    if not args.check:
        out(f"wrote {LAYOUT_FILE.relative_to(ROOT)} (latest migration: {migration or 'none'})")
    return 0


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]
    sys.exit(main())
