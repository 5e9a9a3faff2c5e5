"""The migration engine against moto server: a catalog in the layout from before migrations
is migrated, a rerun touches nothing, a killed runner's work resumes after its lease
expires, a second runner is refused, an edited migration is refused, `down` round-trips,
and every bad input answers one line and writes nothing."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.migrations import (
    LeaseHeld,
    MigrationError,
    MigrationFailed,
    ProgressEvent,
    downgrade,
    registry,
    scan,
    state,
    status,
    upgrade,
)
from catalog.products.items import SCHEMA_VERSION, copies
from tests.migration_tables import (
    MotoEndpoint,
    create_table,
    data_items,
    fresh_category_item,
    fresh_items,
    make_products,
    moto_endpoint,
    old_category_item,
    scan_all,
    store_old_catalog,
    use_table,
)

CATEGORIES = ["home", "garden"]
# The number a migration added by a test gets (after the shipped ones).
NEXT = f"{len(registry.discover()) + 1:04d}"
ALL = tuple(m.id for m in registry.discover())
pytestmark = pytest.mark.xdist_group("migrations")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[MotoEndpoint]:
    with moto_endpoint() as endpoint:
        yield endpoint


@pytest.fixture
def old_catalog(endpoint: MotoEndpoint) -> tuple[str, list[Any]]:
    """A fresh table holding 20 products (with tags, words, images) and two categories, as
    the code before migrations stored them (1,000 products: test_migration_under_load.py)."""
    table = create_table(endpoint)
    products = make_products(20, CATEGORIES)
    store_old_catalog(endpoint.client, table, products, CATEGORIES)
    return table, products


def versions(endpoint: MotoEndpoint, table: str) -> dict[str, set[Any]]:
    """The schema_versions found per item kind."""
    found: dict[str, set[Any]] = {}
    for item in data_items(endpoint.client, table).values():
        found.setdefault(item["kind"]["S"], set()).add(item.get("schema_version", {}).get("N"))
    return found


def test_the_baseline_stamps_every_item_and_a_rerun_touches_nothing(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]]
) -> None:
    # Given a catalog stored before migrations existed
    table, _ = old_catalog
    assert versions(endpoint, table)["product"] == {None}
    # When the baseline is applied
    first = upgrade(runner="test", to="0001")
    # Then every item carries schema_version 1 and the run says what it did
    assert first.done and first.applied == ("0001_baseline",)
    assert {kind: found for kind, found in versions(endpoint, table).items()} == {
        kind: {"1"} for kind in ("product", "tag", "word", "sku", "category")
    }
    assert first.changed == len(data_items(endpoint.client, table))
    # And the lease is released
    assert "Item" not in endpoint.client.get_item(TableName=table, Key=state.LEASE_KEY)
    # When it runs again, nothing is pending and nothing is written
    before = scan_all(endpoint.client, table)
    again = upgrade(runner="test", to="0001")
    assert again.done and again.applied == () and again.changed == 0
    assert scan_all(endpoint.client, table) == before


def test_up_brings_an_old_catalog_to_what_the_code_writes_and_status_says_so(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]]
) -> None:
    # Given a catalog stored before migrations existed
    table, products = old_catalog
    seen: list[ProgressEvent] = []
    # When every migration is applied
    result = upgrade(runner="test-runner", progress=seen.append)
    # Then each product's items are exactly those the code writes today
    stored = data_items(endpoint.client, table)
    expected = {(i["pk"]["S"], i["sk"]["S"]): i for p in products for i in fresh_items(p)}
    assert {k: v for k, v in stored.items() if not k[0].startswith("CATEGORY#")} == expected
    # And each category counts its active products, as one written now does
    for slug in CATEGORIES:
        assert stored[(f"CATEGORY#{slug}", "CATEGORY")] == fresh_category_item(slug, products)
    assert result.done and result.pending == ()
    assert result.applied == tuple(m.id for m in registry.discover())
    # And progress was reported per migration, up to what it changed
    last = {event.migration_id: event for event in seen}
    assert last["0002_search_words_v2"].changed == len(products)
    # And status lists each as applied, by whom, with its counts
    statuses = status()
    assert [s.state for s in statuses] == ["applied"] * len(statuses)
    assert {s.runner for s in statuses} == {"test-runner"}
    assert statuses[1].changed == len(products)
    assert statuses[2].changed == len(CATEGORIES)
    assert all(s.finished_at and s.started_at and not s.edited for s in statuses)


def test_a_dry_run_counts_what_would_change_and_writes_nothing(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]]
) -> None:
    table, _products = old_catalog
    before = scan_all(endpoint.client, table)
    # When the baseline runs dry
    result = upgrade(runner="test", to="0001", dry_run=True)
    # Then it counts every item as one it would change, and the table is as it was
    assert result.changed == len(before)
    assert not result.done and result.pending == ("0001_baseline",)
    assert scan_all(endpoint.client, table) == before
    assert status()[0].state == "pending"


def test_a_deadline_stops_between_pages_and_the_next_call_resumes(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    table, _ = old_catalog
    monkeypatch.setattr(scan, "PAGE_SIZE", 20)
    # When a run is given a deadline that has passed
    result = upgrade(runner="test", deadline=time.time() - 1)
    # Then nothing was stepped, the lease is free, nothing is done
    assert not result.done and result.applied == () and result.scanned == 0
    assert "Item" not in endpoint.client.get_item(TableName=table, Key=state.LEASE_KEY)
    # When runs go on with a deadline each, they get there, never redoing a finished segment
    # (bounded by time, not by a number of calls: on a loaded machine a 1 s call may do
    # little more than take the lease)
    give_up = time.monotonic() + 120
    while not result.done and time.monotonic() < give_up:
        result = upgrade(runner="test", deadline=time.time() + 1.0)
    assert result.done
    assert versions(endpoint, table)["product"] == {str(SCHEMA_VERSION)}


def test_a_killed_runner_is_resumed_from_its_checkpoints_once_its_lease_expires(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    table, _products = old_catalog
    items = len(scan_all(endpoint.client, table))
    monkeypatch.setattr(scan, "PAGE_SIZE", 10)
    # A lease of 5 s: long enough for the second runner to come while the dead one's lease
    # still holds on a loaded machine, short enough to wait out
    monkeypatch.setattr(state, "LEASE_SECONDS", 5.0)

    # Given a runner that dies after three checkpoints, without releasing its lease
    class Killed(BaseException):
        pass

    def die_after_three(event: ProgressEvent) -> None:
        if event.scanned >= 30:
            raise Killed

    monkeypatch.setattr(state.Lease, "release", lambda self: None)
    with pytest.raises(Killed):
        upgrade(runner="killed-runner", to="0001", progress=die_after_three)
    monkeypatch.undo()
    monkeypatch.setattr(scan, "PAGE_SIZE", 10)
    monkeypatch.setattr(state, "LEASE_SECONDS", 5.0)
    assert status()[0].state == "running"
    # When another runner comes while the lease is still held, it is refused, by name
    with pytest.raises(LeaseHeld, match="killed-runner"):
        upgrade(runner="second-runner", to="0001")
    # And once the lease has expired, the next runner finishes the job
    lease = endpoint.client.get_item(TableName=table, Key=state.LEASE_KEY, ConsistentRead=True)
    time.sleep(max(0.0, float(lease["Item"]["expires_at"]["N"]) - time.time() + 0.2))
    result = upgrade(runner="second-runner", to="0001")
    # Then it read only what the killed runner had not checkpointed
    assert result.done and result.applied == ("0001_baseline",)
    assert 0 < result.scanned < items
    # And every item is stamped
    assert set().union(*versions(endpoint, table).values()) == {"1"}
    assert status()[0].runner == "second-runner"


def test_a_second_runner_is_refused_while_the_first_works(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]]
) -> None:
    _table, _ = old_catalog
    working, go_on = threading.Event(), threading.Event()

    def hold(event: ProgressEvent) -> None:
        working.set()
        assert go_on.wait(30)

    outcome: list[Any] = []
    first = threading.Thread(
        target=lambda: outcome.append(upgrade(runner="first-runner", progress=hold))
    )
    first.start()
    try:
        assert working.wait(30)
        # When a second runner starts meanwhile
        with pytest.raises(LeaseHeld) as refused:
            upgrade(runner="second-runner")
        # Then it is told who holds the lease, until when, and what to do, on one line
        message = str(refused.value)
        assert "first-runner" in message and "wait" in message and "\n" not in message
    finally:
        go_on.set()
        first.join(60)
    # And the first runner finished undisturbed
    assert outcome and outcome[0].done
    assert {s.runner for s in status()} == {"first-runner"}


@pytest.fixture
def steps_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real migrations, copied to a directory the engine reads instead."""
    directory = tmp_path / "steps"
    shutil.copytree(registry.STEPS_DIR, directory, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(registry, "STEPS_DIR", directory)
    return directory


def test_an_edited_migration_is_refused(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]], steps_copy: Path
) -> None:
    table, _ = old_catalog
    upgrade(runner="test", to="0001")
    # Given the applied baseline edited afterwards
    baseline = steps_copy / "0001_baseline.py"
    baseline.write_text(baseline.read_text() + "\n# edited\n")
    before = scan_all(endpoint.client, table)
    # When migrations are run, the run is refused and nothing is written
    with pytest.raises(MigrationError, match="0001_baseline was edited after it was applied"):
        upgrade(runner="test")
    assert scan_all(endpoint.client, table) == before
    # And status shows it
    assert status()[0].edited


def test_down_round_trips_to_the_layout_before_migrations(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]]
) -> None:
    table, _ = old_catalog
    original = data_items(endpoint.client, table)
    upgrade(runner="test")
    migrated = data_items(endpoint.client, table)
    # When every migration is reverted
    result = downgrade(runner="test", to="0000")
    # Then the table holds exactly what it held before, and no migration is recorded
    assert result.done and result.applied == tuple(reversed(ALL))
    assert data_items(endpoint.client, table) == original
    assert [s.state for s in status()] == ["pending"] * len(ALL)
    # When applied again, it is as after the first time
    upgrade(runner="test")
    assert data_items(endpoint.client, table) == migrated
    # And going down one step leaves products at layout 1, with the old search words
    downgrade(runner="test", to="0001")
    product = next(iter(make_products(1, CATEGORIES)))
    assert set(copies(product, 1)) <= set(copies(product))  # (layouts nest; see listing.py)
    assert versions(endpoint, table)["word"] == {"1"}
    assert versions(endpoint, table)["category"] == {"1"}
    assert [s.state for s in status()] == ["applied"] + ["pending"] * (len(ALL) - 1)


def test_a_failing_item_stops_the_run_with_its_key_and_a_rerun_resumes(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]], steps_copy: Path
) -> None:
    table, products = old_catalog
    victim = products[7].id
    # Given a migration whose step fails on one product
    (steps_copy / f"{NEXT}_fails_once.py").write_text(
        "from catalog.migrations.model import Update, key_of\n"
        "DESCRIPTION = 'fails on one item'\n"
        "KINDS = ('product',)\n"
        "def forward(item):\n"
        f"    if item['id'] == {victim!r} and not __import__('os').environ.get('FIXED'):\n"
        "        raise ValueError('cannot read this one')\n"
        f"    return [Update(key_of(item), set={{'schema_version': {int(NEXT)}}})]\n"
    )
    # When it runs, it stops with the item's key and the error
    with pytest.raises(MigrationFailed) as failed:
        upgrade(runner="test")
    assert failed.value.migration_id == f"{NEXT}_fails_once"
    assert failed.value.key == {"pk": f"PRODUCT#{victim}", "sk": "PRODUCT"}
    assert "ValueError: cannot read this one" in failed.value.error
    assert "\n" not in str(failed.value)
    assert [s.state for s in status()] == ["applied"] * len(ALL) + ["running"]
    # When the cause is fixed, the rerun completes it
    import os

    os.environ["FIXED"] = "1"
    try:
        result = upgrade(runner="test")
    finally:
        del os.environ["FIXED"]
    assert result.done and result.applied == (f"{NEXT}_fails_once",)
    assert versions(endpoint, table)["product"] == {str(int(NEXT))}


# --- bad input: one line that says what to do, nothing written ----------------------------


def refused(endpoint: MotoEndpoint, table: str, call: Any, match: str) -> str:
    before = scan_all(endpoint.client, table)
    with pytest.raises(MigrationError, match=match) as error:
        call()
    assert scan_all(endpoint.client, table) == before
    message = str(error.value)
    assert "\n" not in message
    return message


def test_an_unknown_migration_id_is_refused(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]]
) -> None:
    table, _ = old_catalog
    message = refused(
        endpoint, table, lambda: upgrade(runner="t", to="0099"), "there is no migration"
    )
    assert "0001_baseline" in message  # names the known ones
    refused(endpoint, table, lambda: downgrade(runner="t", to="nope"), "there is no migration")


def test_a_gap_in_numbering_is_refused(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]], steps_copy: Path
) -> None:
    table, _ = old_catalog
    after_gap = f"{int(NEXT) + 1:04d}_after_a_gap"
    (steps_copy / f"{after_gap}.py").write_text("DESCRIPTION = 'x'\n")
    refused(endpoint, table, lambda: upgrade(runner="t"), f"expected {NEXT}, found {after_gap}")


def test_a_module_that_does_not_import_is_refused(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]], steps_copy: Path
) -> None:
    table, _ = old_catalog
    (steps_copy / f"{NEXT}_broken.py").write_text("def forward(item:\n")
    refused(
        endpoint, table, lambda: upgrade(runner="t"), f"{NEXT}_broken does not import .SyntaxError"
    )


def test_a_held_lease_is_refused(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]]
) -> None:
    table, _ = old_catalog
    state.Lease(endpoint.client, table, "someone-else").acquire()
    refused(endpoint, table, lambda: upgrade(runner="t"), "someone-else.*holds the lease")


def test_a_table_that_does_not_exist_is_refused(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]]
) -> None:
    table, _ = old_catalog
    use_table("no-such-table")
    try:
        refused(endpoint, table, lambda: upgrade(runner="t"), "table no-such-table does not exist")
        refused(endpoint, table, status, "does not exist")
    finally:
        use_table(table)


def test_down_past_a_migration_without_a_backward_step_is_refused(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]], steps_copy: Path
) -> None:
    table, _ = old_catalog
    (steps_copy / f"{NEXT}_one_way.py").write_text(
        "from catalog.migrations.model import Update, key_of\n"
        "DESCRIPTION = 'one way'\n"
        "KINDS = ('sku',)\n"
        "def forward(item):\n"
        f"    return [Update(key_of(item), set={{'schema_version': {int(NEXT)}}})]\n"
    )
    upgrade(runner="t")
    refused(
        endpoint,
        table,
        lambda: downgrade(runner="t", to="0001"),
        f"{NEXT}_one_way has no backward step",
    )


def test_a_category_written_meanwhile_keeps_its_counts(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]]
) -> None:
    """The baseline updates only schema_version: a count the API adds meanwhile stays."""
    table, products = old_catalog
    item = old_category_item("home", products)
    from catalog.migrations.apply import apply_step

    baseline = registry.discover()[0]
    endpoint.client.update_item(
        TableName=table,
        Key={"pk": item["pk"], "sk": item["sk"]},
        UpdateExpression="ADD product_count :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    assert apply_step(endpoint.client, table, baseline, item, "up")
    stored = endpoint.client.get_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    assert int(stored["Item"]["product_count"]["N"]) == int(item["product_count"]["N"]) + 1
    assert stored["Item"]["schema_version"] == {"N": "1"}


def test_a_category_not_yet_migrated_shows_its_active_products(
    endpoint: MotoEndpoint, old_catalog: tuple[str, list[Any]]
) -> None:
    """Upgrade on read: before 0003 has counted them, the active products are counted."""
    from catalog.categories.repository import CategoryRepository

    _, products = old_catalog
    active = sum(p.status == "active" and p.category == "home" for p in products)
    assert 0 < active < sum(p.category == "home" for p in products)
    assert CategoryRepository().get("home", "active").product_count == active
    upgrade(runner="test")
    assert CategoryRepository().get("home", "active").product_count == active
    assert CategoryRepository().list_all("active")[1].product_count == active
