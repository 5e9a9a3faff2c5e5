"""The shipped migrations, without a table: numbered without gaps, reversible, agreeing with
the schema_version the code writes; 0002's step is pure and gives what the code writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from boto3.dynamodb.types import TypeDeserializer
from hypothesis import given, strategies as st

from catalog.categories.repository import CategoryItem
from catalog.migrations import MigrationError, registry
from catalog.migrations.model import Delete, Put, Update
from catalog.products.items import ProductItem, SkuGuard, copies
from catalog.products.listing import WORDS_LAYOUT, WORDS_NAME_SKU, words_of
from tests.migration_tables import make_products, old_layout_items

_deserializer = TypeDeserializer()


def python(raw: dict[str, dict[str, object]]) -> dict[str, object]:
    return {name: _deserializer.deserialize(value) for name, value in raw.items()}


def latest(kind: str) -> int:
    return max((m.number for m in registry.discover() if kind in m.kinds), default=0)


def test_the_migrations_are_numbered_from_one_without_gaps_and_each_can_be_reverted() -> None:
    migrations = registry.discover()
    assert [m.number for m in migrations] == list(range(1, len(migrations) + 1))
    assert [m.id for m in migrations][:2] == ["0001_baseline", "0002_search_words_v2"]
    assert all(m.backward is not None and m.description for m in migrations)


def test_the_code_writes_each_kind_at_the_version_of_the_last_migration_touching_it() -> None:
    # (0002 is given product items and rewrites their tag and word copies with them)
    assert ProductItem().schema_version == latest("product") == WORDS_LAYOUT
    product = make_products(1, ["home"])[0]
    assert {c.schema_version for c in copies(product).values()} == {latest("product")}
    assert SkuGuard().schema_version == latest("sku")
    assert CategoryItem().schema_version == latest("category")


@given(name=st.text(max_size=80), sku=st.text(max_size=30), description=st.text(max_size=200))
def test_each_search_word_layout_begins_with_the_previous_ones_words(
    name: str, sku: str, description: str
) -> None:
    # (so an API write over a product still at the old layout deletes every copy it had)
    old = words_of(name, sku, description, WORDS_NAME_SKU)
    new = words_of(name, sku, description, WORDS_LAYOUT)
    assert new[: len(old)] == old


def test_the_search_words_step_gives_the_items_the_code_writes() -> None:
    # Given a product with a description, stored in the old layout
    product = make_products(1, ["home"])[0]
    stored = [python(raw) for raw in old_layout_items(product)]
    item = next(i for i in stored if i["sk"] == "PRODUCT")
    item["schema_version"] = 1
    # When the step is given its item
    step = registry.discover()[1]
    writes = step.forward(item)
    # Then it writes every copy the code writes today, deletes none (the words nest), and
    # stamps the item itself, leaving everything else of it alone
    expected = {sk: python(c.serialize()) for sk, c in copies(product).items()}
    assert {w.item["sk"]: dict(w.item) for w in writes if isinstance(w, Put)} == expected
    assert not [w for w in writes if isinstance(w, Delete)]
    assert [w for w in writes if isinstance(w, Update)] == [
        Update({"pk": item["pk"], "sk": "PRODUCT"}, set={"schema_version": 2})
    ]
    # And the backward step writes the old copies back and deletes the description's
    back = step.backward({**item, "schema_version": 2})
    deleted = {w.key["sk"] for w in back if isinstance(w, Delete)}
    assert deleted == set(copies(product)) - set(copies(product, 1))
    assert deleted  # the description has words of its own


def test_targets_resolve_by_id_or_number_and_unknown_ones_are_refused() -> None:
    migrations = registry.discover()
    assert registry.resolve(migrations, "0002_search_words_v2") == 2
    assert registry.resolve(migrations, "0001") == 1
    assert registry.resolve(migrations, "0000") == 0
    with pytest.raises(MigrationError, match="there is no migration '0042'"):
        registry.resolve(migrations, "0042")


def test_new_migrations_take_the_next_number(tmp_path: Path) -> None:
    (tmp_path / "0001_baseline.py").write_text("")
    (tmp_path / "0002_other.py").write_text("")
    assert registry.next_path("Price cents!", tmp_path).name == "0003_price_cents.py"
    with pytest.raises(MigrationError, match="no usable module name"):
        registry.next_path("!!!", tmp_path)


def test_a_module_named_otherwise_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001-baseline.py").write_text("")
    with pytest.raises(MigrationError, match=r"is not named NNNN_snake_name\.py"):
        registry.discover(tmp_path)
