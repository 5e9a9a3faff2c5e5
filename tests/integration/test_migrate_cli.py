"""`python -m cli migrate ...` against moto server: what it prints, its exit status, and that
a refusal is one line on stderr with nothing written."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from catalog.migrations import registry
from cli import app, migrate
from tests.migration_tables import (
    MotoEndpoint,
    create_table,
    make_products,
    moto_endpoint,
    scan_all,
    store_old_catalog,
)

pytestmark = pytest.mark.xdist_group("migrations")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[MotoEndpoint]:
    with moto_endpoint() as endpoint:
        yield endpoint


@pytest.fixture
def table(endpoint: MotoEndpoint, monkeypatch: pytest.MonkeyPatch) -> str:
    """An old catalog of 10 products; the CLI's changes to the environment are undone."""
    name = create_table(endpoint)
    store_old_catalog(endpoint.client, name, make_products(10, ["home"]), ["home"])
    for variable in ("AWS_ENDPOINT_URL", "TABLE_PRODUCTS"):
        monkeypatch.setenv(variable, os.environ[variable])
    monkeypatch.setattr(migrate.console, "width", 160)
    return name


def cli(endpoint: MotoEndpoint, table: str, *args: str) -> tuple[int, str, str]:
    runner = CliRunner(env={"COLUMNS": "160"})
    result = runner.invoke(
        app,
        ["migrate", *args, "--endpoint", endpoint.url, "--table", table],
        catch_exceptions=False,
    )
    return result.exit_code, result.stdout, result.stderr


def test_status_up_and_down_tell_what_they_did(endpoint: MotoEndpoint, table: str) -> None:
    # Given an old catalog, status lists both migrations as pending
    code, out, _ = cli(endpoint, table, "status")
    assert code == 0
    assert "0001_baseline" in out and "0002_search_words_v2" in out and "pending" in out
    # When a dry run is asked for, it counts and writes nothing
    before = scan_all(endpoint.client, table)
    code, out, _ = cli(endpoint, table, "up", "--dry-run")
    assert code == 0 and "nothing written" in out
    assert scan_all(endpoint.client, table) == before
    # When every migration is applied
    code, out, _ = cli(endpoint, table, "up")
    assert code == 0
    assert "applied 0001_baseline, 0002_search_words_v2" in out
    assert "scanned" in out  # the progress bar's counts
    code, out, _ = cli(endpoint, table, "status")
    assert out.count("applied") == len(registry.discover())
    # When run again there is nothing to do
    code, out, _ = cli(endpoint, table, "up")
    assert code == 0 and "nothing to do" in out
    # And down goes back, one migration at a time
    code, out, _ = cli(endpoint, table, "down", "--to", "0001")
    assert code == 0 and "reverted 0003_category_active_counts, 0002_search_words_v2" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["up", "--to", "0042"], "there is no migration '0042'"),
        (["down", "--to", "nope"], "there is no migration 'nope'"),
        (["up", "--stage", "staging"], "unknown stage 'staging'"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    endpoint: MotoEndpoint, table: str, args: list[str], message: str
) -> None:
    before = scan_all(endpoint.client, table)
    code, _, err = cli(endpoint, table, *args)
    assert code == 1
    assert message in err and err.count("\n") == 1 and err.startswith("error:")
    assert scan_all(endpoint.client, table) == before


def test_a_table_that_does_not_exist_is_refused(endpoint: MotoEndpoint, table: str) -> None:
    code, _, err = cli(endpoint, "not-a-table", "up")
    assert code == 1 and "table not-a-table does not exist" in err and err.count("\n") == 1


def test_an_unreachable_endpoint_is_refused(table: str) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["migrate", "status", "--endpoint", "http://127.0.0.1:9", "--table", table]
    )
    assert result.exit_code == 1
    assert "cannot reach DynamoDB at http://127.0.0.1:9" in result.stderr


def test_new_writes_the_next_numbered_skeleton_which_refuses_to_run_unwritten(
    endpoint: MotoEndpoint, table: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = tmp_path / "steps"
    steps.mkdir()
    for path in registry.STEPS_DIR.glob("0*.py"):
        (steps / path.name).write_text(path.read_text())
    monkeypatch.setattr(registry, "STEPS_DIR", steps)
    # When a new migration is asked for
    code = CliRunner().invoke(app, ["migrate", "new", "Price cents!"]).exit_code
    # Then the next number is written, and it imports
    number = len(list(steps.glob("0*.py")))
    written = steps / f"{number:04d}_price_cents.py"
    assert code == 0 and written.exists()
    assert [m.id for m in registry.discover()][-1] == written.stem
    # And until its step is written, running it stops on the first item, saying so
    code, _, err = cli(endpoint, table, "up")
    assert code == 1 and f"{written.stem} failed on item" in err
    assert "NotImplementedError: write the forward step" in err
