"""`python -m cli restore ...` against moto server: the restored table under a new name, with
what a restore leaves out given back (stream, TTL, point-in-time recovery, deletion
protection, tags), checked against its source, and the stage setting that switches to it.

moto cannot exercise the point in time itself: its RestoreTableToPointInTime copies the
source's items as they are at the call, whatever time is asked for, and its restorable window
is the moment point-in-time recovery was turned on. So these tests prove the command's own
work (the window check, the waiting, the conforming, the comparison, resuming), not that
DynamoDB returns the items of a past second; README, "Backups and restore", says so too."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import app, restore
from infra import topology
from infra.local.provision import table_definition
from tests.migration_tables import MotoEndpoint, moto_endpoint

pytestmark = pytest.mark.xdist_group("migrations")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[MotoEndpoint]:
    with moto_endpoint() as endpoint:
        yield endpoint


def product(n: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"PRODUCT#{n:04d}"},
        "sk": {"S": "PRODUCT"},
        "name": {"S": f"lamp {n}"},
        "price": {"N": f"{n}.50"},
    }


@pytest.fixture
def source(endpoint: MotoEndpoint, monkeypatch: pytest.MonkeyPatch) -> str:
    """A products table as the stack makes it (point-in-time recovery on), with 30 items;
    the CLI's changes to the environment are undone."""
    name = f"catalog-prod-products-{uuid.uuid4().hex[:8]}"
    endpoint.client.create_table(**table_definition(topology.TABLES["products"], name))
    endpoint.client.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    for n in range(30):
        endpoint.client.put_item(TableName=name, Item=product(n))
    for variable in ("AWS_ENDPOINT_URL", "TABLE_PRODUCTS"):
        monkeypatch.setenv(variable, os.environ.get(variable, ""))
    monkeypatch.setattr(restore.console, "width", 200)
    monkeypatch.setattr(restore, "POLL_S", 0.01)
    return name


def cli(endpoint: MotoEndpoint, *args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["restore", *args, "--endpoint", endpoint.url], catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def test_restores_conforms_checks_and_tells_how_to_switch_prod(
    endpoint: MotoEndpoint, source: str
) -> None:
    # Given prod's products table with 30 items
    restored = f"{source}-r"
    # When it is restored to the latest restorable time under a new name
    code, out, err = cli(
        endpoint, "products", "--stage", "prod", "--table", source, "--as", restored
    )
    # Then the command succeeds and says what it did
    assert code == 0, err
    assert f"restoring {source} as {restored}" in out
    assert "keys and indexes" in out and "the same" in out
    assert "30 restored, 30 in the source now" in out
    assert "30 compared: 30 identical, 0 changed in the source since, 0 no longer in it" in out
    # And the new table holds the items, with what the stack gives the products table
    client = endpoint.client
    table = client.describe_table(TableName=restored)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert table["DeletionProtectionEnabled"] is True  # prod retains its data
    backups = client.describe_continuous_backups(TableName=restored)
    recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"
    tags = {
        t["Key"]: t["Value"]
        for t in client.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
    }
    assert tags == {"project": "catalog", "stage": "prod", "catalog:restored-from": source}
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {
        i.name for i in topology.TABLES["products"].indexes
    }
    # And the switch is the stage setting naming the table and its new stream
    assert (
        f'restored_tables=(RestoredTable("products", "{restored}", '
        f'stream_arn="{table["LatestStreamArn"]}"),),' in out
    )


def test_a_table_with_time_to_live_gets_it_back(endpoint: MotoEndpoint) -> None:
    # Given a notifications table (TTL on expires_at) with recovery on
    name = f"catalog-dev-notifications-{uuid.uuid4().hex[:8]}"
    endpoint.client.create_table(**table_definition(topology.TABLES["notifications"], name))
    endpoint.client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    endpoint.client.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    # When dev restores it (dev keeps no data past the stack: no deletion protection)
    code, out, err = cli(
        endpoint, "notifications", "--stage", "dev", "--table", name, "--as", f"{name}-r"
    )
    assert code == 0, err
    ttl = endpoint.client.describe_time_to_live(TableName=f"{name}-r")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    table = endpoint.client.describe_table(TableName=f"{name}-r")["Table"]
    assert table.get("DeletionProtectionEnabled", False) is False
    assert 'RestoredTable("notifications"' in out and "stream_arn" not in out


def test_the_comparison_finds_items_changed_or_deleted_in_the_source_since(
    endpoint: MotoEndpoint, source: str
) -> None:
    # Given a restored copy of the source
    code, _, err = cli(endpoint, "products", "--table", source, "--as", f"{source}-r")
    assert code == 0, err
    # When the source changes afterwards: one item rewritten, one deleted, one added
    client = endpoint.client
    client.put_item(TableName=source, Item={**product(3), "name": {"S": "renamed"}})
    client.delete_item(TableName=source, Key={"pk": product(7)["pk"], "sk": product(7)["sk"]})
    client.put_item(TableName=source, Item=product(99))
    # Then comparing the two tells each apart
    check = restore.compare(client, source, f"{source}-r", sample=100)
    assert check.schema_matches
    assert (check.restored_items, check.source_items) == (30, 30)
    assert check.sampled == 30 and check.identical == 28
    assert check.changed == [{"pk": {"S": "PRODUCT#0003"}, "sk": {"S": "PRODUCT"}}]
    assert check.gone == [{"pk": {"S": "PRODUCT#0007"}, "sk": {"S": "PRODUCT"}}]


def test_naming_a_restore_already_made_resumes_it(endpoint: MotoEndpoint, source: str) -> None:
    restored = f"{source}-r"
    assert cli(endpoint, "products", "--table", source, "--as", restored)[0] == 0
    # When the same command runs again (after a wait that timed out, say)
    code, out, err = cli(endpoint, "products", "--table", source, "--as", restored)
    # Then it starts no second restore, and finishes the first
    assert code == 0, err
    assert f"resuming the restore of {source} as {restored}" in out


def test_restores_a_backup(endpoint: MotoEndpoint, source: str) -> None:
    # Given a backup of the table (as AWS Backup makes one a day in prod)
    arn = endpoint.client.create_backup(TableName=source, BackupName="daily")["BackupDetails"][
        "BackupArn"
    ]
    # When it is restored
    code, out, err = cli(
        endpoint, "products", "--table", source, "--from-backup", arn, "--as", f"{source}-b"
    )
    assert code == 0, err
    assert f"from the backup {arn}" in out
    assert "30 restored, 30 in the source now" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "1999-01-01T00:00:00Z"], "can be restored to"),
        (["--to", "2999-01-01T00:00:00Z"], "can be restored to"),
        (["--to", "yesterday"], "is no ISO 8601 time"),
        (["--to", "2026-01-01T00:00:00Z", "--from-backup", "arn:x"], "give one"),
    ],
)
def test_a_point_outside_the_window_or_a_bad_option_is_refused_and_restores_nothing(
    endpoint: MotoEndpoint, source: str, args: list[str], message: str
) -> None:
    tables = set(endpoint.client.list_tables()["TableNames"])
    code, _, err = cli(endpoint, "products", "--table", source, "--as", f"{source}-x", *args)
    assert code == 1
    assert message in err and len(err.strip().splitlines()) == 1
    assert set(endpoint.client.list_tables()["TableNames"]) == tables


def test_a_name_taken_by_another_table_or_an_unknown_table_is_refused(
    endpoint: MotoEndpoint, source: str
) -> None:
    other = f"{source}-other"
    endpoint.client.create_table(**table_definition(topology.TABLES["access"], other))
    code, _, err = cli(endpoint, "products", "--table", source, "--as", other)
    assert code == 1 and "is no restore of" in err
    code, _, err = cli(endpoint, "orders", "--table", source)
    assert code == 1 and "no table 'orders'" in err


def test_a_source_without_point_in_time_recovery_is_refused(endpoint: MotoEndpoint) -> None:
    name = f"catalog-dev-access-{uuid.uuid4().hex[:8]}"
    endpoint.client.create_table(**table_definition(topology.TABLES["access"], name))
    code, _, err = cli(endpoint, "access", "--table", name)
    assert code == 1 and "has no point-in-time recovery" in err


def test_waiting_gives_up_with_how_to_resume(endpoint: MotoEndpoint) -> None:
    # Given a table that never becomes active (a restore of hours), and a clock that runs out
    class Creating:
        class exceptions:
            ResourceNotFoundException = KeyError

        def describe_table(self, TableName: str) -> dict[str, Any]:
            return {"Table": {"TableStatus": "CREATING"}}

    ticks = iter([0.0, 10.0, 20.0])
    with pytest.raises(restore.Refused, match=r"still CREATING.*--as big"):
        restore.wait_active(
            Creating(), "big", timeout_s=15, clock=lambda: next(ticks), sleep=lambda s: None
        )
