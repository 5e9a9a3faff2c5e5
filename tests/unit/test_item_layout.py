"""The stored item layout: the committed description is what the code generates, and a
layout that changes without a new migration is refused (scripts/item_layout.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from catalog.core.dynamo import TableModel, TableName
from catalog.products import listing
from scripts import item_layout

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_description_is_what_the_code_generates() -> None:
    # Given the layout the code has now and the latest migration in steps/
    layout, migration = item_layout.generate(), item_layout.latest_migration()
    # Then docs/item-layout.json describes exactly that (else: run make layout, or add a
    # migration first when the layout itself changed)
    problem = item_layout.check(item_layout.LAYOUT_FILE, layout, migration)
    assert problem is None, problem


def test_it_describes_every_model_of_every_table() -> None:
    # Given the generated description
    tables = item_layout.generate()["tables"]
    # Then each pynamodb model is described under its table, with its kinds' key shapes
    items = tables["products"]["items"]
    product = items["catalog.products.items.ProductItem"]
    assert product["kinds"]["product"]["pk"] == "PRODUCT#<id>"
    assert product["attributes"]["price"] == {"type": "DecimalAttribute", "dynamodb": "N"}
    assert product["attributes"]["version"]["type"] == "VersionAttribute"
    assert product["indexes"]["gsi3"] == {
        "partition": "gsi1pk",
        "sort": "gsi3sk",
        "projection": "AllProjection",
    }
    copies = items["catalog.products.items.ProductCopy"]
    assert set(copies["kinds"]) == {"tag", "word"}
    # And the code deriving the search words is in the copies' fingerprint
    assert "catalog.products.listing.words_of" in copies["derived_by"]
    assert "catalog.products.listing._WORD" in copies["derived_by"]
    # And the tables' keys and indexes come from the topology
    assert tables["products"]["indexes"]["gsi1"] == {"partition": "gsi1pk", "sort": "gsi1sk"}
    assert set(tables) == {"products", "users", "access", "notifications", "exports"}


def described(layout: dict[str, Any], model: str) -> dict[str, Any]:
    for table in layout["tables"].values():
        if model in table["items"]:
            item: dict[str, Any] = table["items"][model]
            return item
    raise KeyError(model)


def test_a_changed_tokenizer_changes_the_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the layout now
    before = described(item_layout.generate(), "catalog.products.items.ProductCopy")
    # When search words split differently (the regex words_of reaches through terms_of)
    monkeypatch.setattr(listing, "_WORD", re.compile(r"[^\W]+"))
    after = described(item_layout.generate(), "catalog.products.items.ProductCopy")
    # Then the copies' derivation differs there, and only there
    changed = {k for k in before["derived_by"] if before["derived_by"][k] != after["derived_by"][k]}
    assert changed == {"catalog.products.listing._WORD"}


def test_a_replaced_derivation_function_changes_the_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    before = described(item_layout.generate(), "catalog.products.items.ProductCopy")

    def terms_of(text: str) -> tuple[str, ...]:
        return tuple(listing.fold(text).split("-"))

    monkeypatch.setattr(listing, "terms_of", terms_of)
    after = described(item_layout.generate(), "catalog.products.items.ProductCopy")
    assert after["derived_by"] != before["derived_by"]


def test_comments_docstrings_and_formatting_do_not_count() -> None:
    plain = "def f(x):\n    return x + 1\n"
    dressed = 'def f(x):\n    """Adds one."""\n    # why: because\n    return (x +\n        1)\n'
    assert item_layout.source_fingerprint(plain) == item_layout.source_fingerprint(dressed)
    assert item_layout.source_fingerprint(plain) != item_layout.source_fingerprint(
        "def f(x):\n    return x + 2\n"
    )


def test_a_new_attribute_changes_the_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a model that gains an attribute (the way `schema_version` arrives)
    class Widget(TableModel):
        KEYS: ClassVar[dict[str, dict[str, str]]] = {"widget": {"pk": "WIDGET#<id>", "sk": "W"}}

        class Meta:
            table_name = TableName("products")

        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)

    class NewWidget(Widget):
        class Meta:
            table_name = TableName("products")

        schema_version = NumberAttribute(default=2)

    monkeypatch.setattr(NewWidget, "KEYS", Widget.KEYS, raising=False)
    # Then it is described, its new attribute with its type and default
    attributes = item_layout.describe_model(NewWidget, set())["attributes"]
    assert attributes["schema_version"] == {
        "type": "NumberAttribute",
        "dynamodb": "N",
        "default": 2,
    }
    assert "schema_version" not in item_layout.describe_model(Widget, set())["attributes"]
    # And a version declared as a class constant is recorded too
    monkeypatch.setattr(Widget, "SCHEMA_VERSION", 3, raising=False)
    assert item_layout.describe_model(Widget, set())["schema_version"] == 3


def test_a_model_without_key_shapes_is_refused() -> None:
    class Bare(TableModel):
        class Meta:
            table_name = TableName("products")

        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)

    with pytest.raises(item_layout.LayoutError, match="declare its item kinds and key shapes"):
        item_layout.describe_model(Bare, set())

    class Misshaped(Bare):
        KEYS: ClassVar[dict[str, dict[str, str]]] = {"x": {"pk": "X#<id>", "name": "<name>"}}

        class Meta:
            table_name = TableName("products")

    with pytest.raises(item_layout.LayoutError, match=r"shapes \['name'\], not keys"):
        item_layout.describe_model(Misshaped, set())


# --- make layout: rewriting, refusing, checking ---------------------------------------------

OLD = {"tables": {"products": {"items": {"A": {"attributes": {"x": {"type": "S"}}}}}}}
NEW = {"tables": {"products": {"items": {"A": {"attributes": {"y": {"type": "S"}}}}}}}


def committed(path: Path, layout: dict[str, Any], migration: str | None) -> None:
    path.write_text(item_layout.render(item_layout.document(layout, migration)))


def test_make_layout_refuses_a_changed_layout_without_a_new_migration(tmp_path: Path) -> None:
    # Given a description recorded with migration 0002 as the latest
    path = tmp_path / "layout.json"
    committed(path, OLD, "0002_words")
    before = path.read_text()
    # When the layout changed and 0002 is still the latest migration
    problem = item_layout.write(path, NEW, "0002_words")
    # Then make layout refuses, says to add a migration, and leaves the file as it was
    assert problem == item_layout.ADD_MIGRATION
    assert "python -m cli migrate new NAME" in problem
    assert path.read_text() == before
    # And the check (make test, pre-commit) says the same
    assert item_layout.check(path, NEW, "0002_words") == item_layout.ADD_MIGRATION


def test_a_new_item_kind_needs_no_migration_but_a_changed_one_does(tmp_path: Path) -> None:
    # Given a description recorded with migration 0002 as the latest
    path = tmp_path / "layout.json"
    committed(path, OLD, "0002_words")
    # When a model is added (a new item kind: nothing stored is in it yet)
    added = {
        "tables": {
            "products": {
                "items": {
                    **OLD["tables"]["products"]["items"],
                    "B": {"attributes": {"z": {"type": "N"}}},
                }
            }
        }
    }
    # Then make layout records it without a migration
    assert item_layout.check(path, added, "0002_words") == item_layout.REGENERATE
    assert item_layout.write(path, added, "0002_words") is None
    assert item_layout.check(path, added, "0002_words") is None
    # But a change of a model already recorded, beside an addition, still needs one
    changed = {
        "tables": {
            "products": {
                "items": {
                    **NEW["tables"]["products"]["items"],
                    "B": {"attributes": {"z": {"type": "N"}}},
                }
            }
        }
    }
    assert item_layout.write(path, changed, "0002_words") == item_layout.ADD_MIGRATION
    # And so does a removed one
    assert item_layout.check(path, OLD, "0002_words") == item_layout.ADD_MIGRATION


def test_a_new_table_needs_no_migration_but_a_change_to_it_then_does(tmp_path: Path) -> None:
    # Given a description recorded with migration 0002 as the latest
    path = tmp_path / "layout.json"
    committed(path, OLD, "0002_words")
    # When the code adds a table (none of its items was stored before)
    added = {"tables": {**OLD["tables"], "jobs": {"items": {"J": {"attributes": {}}}}}}
    # Then make layout records it without a migration, and the check agrees
    assert item_layout.write(path, added, "0002_words") is None
    assert item_layout.check(path, added, "0002_words") is None
    # And once recorded, changing that table needs a migration like any other
    changed = {"tables": {**OLD["tables"], "jobs": {"items": {"J": {"attributes": {"z": {}}}}}}}
    assert item_layout.write(path, changed, "0002_words") == item_layout.ADD_MIGRATION
    # And so does a change to a recorded table alongside a new one
    both = {"tables": {**NEW["tables"], "jobs": {"items": {"J": {"attributes": {}}}}}}
    assert item_layout.write(path, both, "0002_words") == item_layout.ADD_MIGRATION


def test_with_a_new_migration_make_layout_rewrites_the_description(tmp_path: Path) -> None:
    path = tmp_path / "layout.json"
    committed(path, OLD, "0002_words")
    # Before it is rewritten, the check asks for it
    assert item_layout.check(path, NEW, "0003_sort_by_stock") == item_layout.REGENERATE
    # When make layout runs after the migration was added
    assert item_layout.write(path, NEW, "0003_sort_by_stock") is None
    # Then the file records the new layout and the new latest migration, and checks clean
    content = json.loads(path.read_text())
    assert content["latest_migration"] == "0003_sort_by_stock"
    assert item_layout.layout_of(content) == NEW
    assert item_layout.check(path, NEW, "0003_sort_by_stock") is None


def test_a_new_migration_alone_only_needs_the_description_regenerated(tmp_path: Path) -> None:
    path = tmp_path / "layout.json"
    committed(path, OLD, None)
    assert item_layout.check(path, OLD, "0001_baseline") == item_layout.REGENERATE
    assert item_layout.write(path, OLD, "0001_baseline") is None
    assert item_layout.check(path, OLD, "0001_baseline") is None


def test_a_hand_edited_description_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "layout.json"
    committed(path, OLD, "0001_baseline")
    path.write_text(path.read_text().replace('"S"', '"N"'))
    # The layout it records differs from the code's, the migration did not change
    assert item_layout.check(path, OLD, "0001_baseline") == item_layout.ADD_MIGRATION
    # A change of formatting alone asks for a regeneration
    committed(path, OLD, "0001_baseline")
    path.write_text(path.read_text() + "\n")
    assert item_layout.check(path, OLD, "0001_baseline") == item_layout.REGENERATE


def test_the_latest_migration_is_the_highest_numbered_step(tmp_path: Path) -> None:
    assert item_layout.latest_migration(tmp_path / "absent") is None
    steps = tmp_path / "steps"
    steps.mkdir()
    assert item_layout.latest_migration(steps) is None
    for name in ("__init__.py", "0001_baseline.py", "0010_sort_by_stock.py", "0002_words.py"):
        (steps / name).write_text("")
    (steps / "0011_draft.py.orig").write_text("")
    (steps / "notes.md").write_text("")
    assert item_layout.latest_migration(steps) == "0010_sort_by_stock"


def test_the_pre_commit_hook_runs_the_same_check() -> None:
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    (hook,) = [block for block in config.split("- id: ")[1:] if block.startswith("item-layout")]
    assert "scripts/item_layout.py --check" in hook
    assert "pass_filenames: false" in hook
    assert "layers/core/catalog/" in hook and "docs/item-layout" in hook
