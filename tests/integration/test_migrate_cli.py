"""`python -m cli migrate ...` against moto server: what it prints, its exit status, and that
a refusal is one line on stderr with nothing written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from catalog.migrations import registry, scan, state
from cli import app, migrate
from tests.migration_tables import (
    MotoEndpoint,
    create_table,
    data_items,
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


# The CLI as `python -m cli` runs it, with pages of 10 items (instead of 1,000) so that a run
# over a few hundred products has many checkpoints to be killed between.
SMALL_PAGES_CLI = (
    "import sys; from catalog.migrations import scan; scan.PAGE_SIZE = 10; "
    "from cli import app; sys.argv[0] = 'catalog'; app()"
)
UP_TO_BASELINE = ("migrate", "up", "--to", "0001", "--endpoint")
ROOT = Path(__file__).resolve().parents[2]


def checkpoints(endpoint: MotoEndpoint, table: str, number: int) -> dict[str, Any]:
    """The record's per-segment checkpoints of migration `number` (empty: none yet)."""
    found = endpoint.client.get_item(
        TableName=table, Key=state.record_key(number), ConsistentRead=True
    )
    segments = found.get("Item", {}).get("segments", {}).get("M", {})
    return {n: json.loads(s["M"]["key"]["S"]) for n, s in segments.items() if "key" in s["M"]}


def test_a_runner_process_killed_mid_run_is_resumed_from_its_checkpoints(
    endpoint: MotoEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an old catalog of 300 products (about 2,000 items: 50 pages per segment)
    name = create_table(endpoint)
    store_old_catalog(endpoint.client, name, make_products(300, ["home"]), ["home"])
    for variable in ("AWS_ENDPOINT_URL", "TABLE_PRODUCTS"):
        monkeypatch.setenv(variable, os.environ[variable])
    monkeypatch.setattr(migrate.console, "width", 200)  # the runner's name whole
    # When `catalog migrate up` runs in a process of its own and is killed (SIGKILL: no
    # clean-up, the lease is not released) once it has checkpointed a page
    child = subprocess.Popen(
        [sys.executable, "-c", SMALL_PAGES_CLI, *UP_TO_BASELINE, endpoint.url, "--table", name],
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'core'}{os.pathsep}{ROOT}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not checkpoints(endpoint, name, 1) and child.poll() is None:
        assert time.monotonic() < deadline, "the runner recorded no checkpoint in 60 s"
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    _, err = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, f"the runner ended before it was killed: {err!r}"
    left = checkpoints(endpoint, name, 1)
    # Then status shows the migration running, by the killed runner's name
    code, out, _ = cli(endpoint, name, "status")
    assert code == 0 and "running" in out and f":{child.pid}" in out
    # And another runner is refused while the dead one's lease lasts, on one line
    code, _, err = cli(endpoint, name, "up", "--to", "0001")
    assert code == 1 and "holds the lease until" in err and err.count("\n") == 1
    # When the lease has expired (its expiry moved to the past: what a minute of silence
    # does) and the CLI runs again
    endpoint.client.update_item(
        TableName=name,
        Key=state.LEASE_KEY,
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": f"{time.time() - 1:.3f}"}},
    )
    started_from: list[dict[int, Any]] = []
    scan_segments = scan.scan_segments

    def recorded(client: Any, table: str, segments: dict[int, Any], **kwargs: Any) -> bool:
        started_from.append({n: s.key for n, s in segments.items()})
        return scan_segments(client, table, segments, **kwargs)

    monkeypatch.setattr(scan, "scan_segments", recorded)
    code, out, err = cli(endpoint, name, "up", "--to", "0001")
    # Then it finishes the migration, starting each segment where the killed run's
    # checkpoint left it (not from the start)
    assert code == 0 and "applied 0001_baseline" in out, err
    assert started_from and {str(n): k for n, k in started_from[0].items() if k} == left
    # And every item of the catalog is stamped
    items = data_items(endpoint.client, name).values()
    assert {item.get("schema_version", {}).get("N") for item in items} == {"1"}
