"""`python -m cli migrate ...` and `make migrate` against moto server: what they print,
the exit status, and that a refusal (bad input, a gap in the numbering, a module that does
not import, an applied migration edited or missing since, a lease another runner holds) is
one line on stderr with nothing written."""

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
# The number a migration added by a test gets (after the shipped ones).
NEXT = len(registry.discover()) + 1


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


@pytest.fixture
def steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped migrations, which the CLI (run in this process) reads instead."""
    directory = tmp_path / "steps"
    directory.mkdir()
    for path in registry.STEPS_DIR.glob("0*.py"):
        (directory / path.name).write_text(path.read_text())
    monkeypatch.setattr(registry, "STEPS_DIR", directory)
    return directory


def refused(endpoint: MotoEndpoint, table: str, args: list[str], message: str) -> None:
    """`migrate ARGS` exits 1 with `message` on one line of stderr (no traceback), and the
    table holds exactly what it held before."""
    before = scan_all(endpoint.client, table)
    code, _, err = cli(endpoint, table, *args)
    assert code == 1, err
    assert message in err and err.count("\n") == 1 and err.startswith("error:"), err
    assert "Traceback" not in err
    assert scan_all(endpoint.client, table) == before


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
    refused(endpoint, table, args, message)


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
    endpoint: MotoEndpoint, table: str, steps: Path
) -> None:
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


# --- refusals the engine makes, as the CLI tells them: exit status 1, one line, nothing written


@pytest.mark.parametrize("args", [["up"], ["down", "--to", "0000"], ["status"]])
def test_a_gap_in_the_numbering_is_refused(
    endpoint: MotoEndpoint, table: str, steps: Path, args: list[str]
) -> None:
    # Given a migration, complete but for its number: one past the next
    after_gap = steps / f"{NEXT + 1:04d}_after_a_gap.py"
    after_gap.write_text("DESCRIPTION = 'x'\nKINDS = ('sku',)\ndef forward(item):\n  return []\n")
    # When any migrate command runs, it is refused, naming the number expected and the file
    refused(endpoint, table, args, f"without gaps: expected {NEXT:04d}, found {after_gap.name}")


@pytest.mark.parametrize("removed", ["the newest", "an earlier one"])
def test_an_applied_migration_the_code_no_longer_has_is_refused(
    endpoint: MotoEndpoint, table: str, steps: Path, removed: str
) -> None:
    # Given every migration applied
    code, _, err = cli(endpoint, table, "up")
    assert code == 0, err
    # When the code no longer has one of them (older code run against the table, or a
    # module deleted), a run is refused
    shipped = sorted(steps.glob("0*.py"))
    if removed == "the newest":
        shipped[-1].unlink()
        message = f"the table has migration {shipped[-1].stem}, which this code does not have"
    else:
        shipped[1].unlink()
        message = f"expected {shipped[1].name[:4]}, found {shipped[2].name}"
    refused(endpoint, table, ["up"], message)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def forward(item:\n", "does not import (SyntaxError:"),
        ("import no_such_module\n", "does not import (ModuleNotFoundError:"),
        ("DESCRIPTION = 'x'\nKINDS = ('sku',)\n", "must define DESCRIPTION, KINDS and forward"),
    ],
    ids=["syntax error", "import error", "no forward step"],
)
def test_a_migration_module_that_does_not_load_is_refused(
    endpoint: MotoEndpoint, table: str, steps: Path, source: str, message: str
) -> None:
    # Given a new migration module that is broken
    (steps / f"{NEXT:04d}_broken.py").write_text(source)
    # When migrations are run, the run is refused, naming the module, and nothing is written
    refused(endpoint, table, ["up"], f"migration {NEXT:04d}_broken {message}")


@pytest.mark.parametrize("args", [["up"], ["down", "--to", "0000"]])
def test_an_applied_migration_edited_since_is_refused(
    endpoint: MotoEndpoint, table: str, steps: Path, args: list[str]
) -> None:
    # Given the baseline applied, then edited (its checksum no longer the recorded one)
    code, _, err = cli(endpoint, table, "up", "--to", "0001")
    assert code == 0, err
    baseline = steps / "0001_baseline.py"
    baseline.write_text(baseline.read_text() + "\n# edited\n")
    # When migrations are run either way, the run is refused and nothing is written
    refused(endpoint, table, args, "migration 0001_baseline was edited after it was applied")
    # And status shows which one was edited
    code, out, _ = cli(endpoint, table, "status")
    assert code == 0 and "(edited since)" in out


def test_a_lease_held_by_another_live_runner_is_refused(endpoint: MotoEndpoint, table: str) -> None:
    # Given another runner at work: it holds the lease, which has not expired
    other = "cli:someone@elsewhere:4242"
    state.Lease(endpoint.client, table, other).acquire()
    # When migrations are run, the run is refused, naming the holder, and nothing is written
    # (the lease stays the other runner's)
    refused(endpoint, table, ["up"], f"another migration runner ({other}) holds the lease until")


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


def settled_checkpoints(endpoint: MotoEndpoint, table: str, number: int) -> dict[str, Any]:
    """The checkpoints of migration `number` once two reads 0.2 s apart agree."""
    deadline = time.monotonic() + 10
    seen = checkpoints(endpoint, table, number)
    while True:
        time.sleep(0.2)
        now = checkpoints(endpoint, table, number)
        if now == seen:
            return now
        assert time.monotonic() < deadline, "the checkpoints kept changing after the kill"
        seen = now


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
    # (what the killed run left, read once the server has finished a write the runner had
    # sent before it died: the kill ends the client, not a request the server is handling)
    left = settled_checkpoints(endpoint, name, 1)
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


@pytest.fixture
def child_moto() -> Iterator[str]:
    """A moto server in a process of its own: the local stack's table name, created on the
    module's in-process server, would be in the backends this worker's local system uses."""
    import socket

    import requests

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(url + "/moto-api/", timeout=1)
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, "no moto server"
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def make_migrate(aws_port: str) -> subprocess.CompletedProcess[str]:
    """`make migrate` as a developer runs it: AWS_PORT names the local stack's moto server;
    nothing else in the environment points at a table or an endpoint."""
    environment = {
        k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "TABLE_PRODUCTS")
    }
    return subprocess.run(
        ["make", "--no-print-directory", "migrate"],
        cwd=ROOT,
        env={**environment, "AWS_PORT": aws_port, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_make_migrate_upgrades_the_local_stacks_table(child_moto: str) -> None:
    """The README's `make migrate`: the local stack's products table (its local name), on
    the moto server of AWS_PORT, with no --endpoint or --table given."""
    import boto3

    from cli.target import local_table
    from infra import topology
    from infra.local.provision import table_definition
    from tests.migration_tables import old_category_item, old_layout_items

    # Given the local stack's products table with an old catalog, on the server of AWS_PORT
    client = boto3.client("dynamodb", endpoint_url=child_moto)
    name = local_table()
    request = table_definition(topology.TABLES["products"], name)
    request.pop("StreamSpecification", None)
    client.create_table(**request)
    products = make_products(5, ["home"])
    items = [raw for product in products for raw in old_layout_items(product)]
    for item in [*items, old_category_item("home", products)]:
        client.put_item(TableName=name, Item=item)
    port = child_moto.rsplit(":", 1)[1]
    # When `make migrate` runs with that AWS_PORT
    done = make_migrate(port)
    # Then it applies every shipped migration to that table
    assert done.returncode == 0, done.stderr
    shipped = registry.discover()
    assert f"applied {', '.join(m.id for m in shipped)}" in done.stdout, done.stdout
    for migration in shipped:
        record = state.read_record(client, name, migration.number)
        assert record is not None and record.finished_at is not None, migration.id
        assert record.checksum == migration.checksum
    # And a second run has nothing to do
    again = make_migrate(port)
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout
