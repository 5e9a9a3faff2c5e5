"""`restore TABLE [--to TIME | --from-backup ARN] [--as NAME]`: a table restored under a new
name (DynamoDB's RestoreTableToPointInTime or RestoreTableFromBackup), waited for, given
what a restore leaves out (stream, TTL, point-in-time recovery, deletion protection, tags)
as the topology and stage declare them, checked against its source (key schema, indexes,
item counts, a sample of items), and the stage setting that switches the stage to it.
README, "Backups and restore", is the runbook around it."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from cli.errors import Refused, one_line_errors
from cli.target import LOCAL, Endpoint, Stage, local_table, select, stage_table

console = Console(highlight=False)

LogicalTable = Annotated[
    str, typer.Argument(help="The topology's name of the table: products, users, access...")
]
To = Annotated[
    str | None,
    typer.Option(
        "--to",
        help="The point in time, ISO 8601 (UTC unless it has an offset), e.g. "
        "2026-12-01T09:30:00Z; default: the latest restorable (about 5 minutes ago).",
    ),
]
FromBackup = Annotated[
    str | None,
    typer.Option(
        "--from-backup",
        help="Restore this backup instead (the ARN of a recovery point of the table in the "
        "stage's backup vault: older than point-in-time recovery reaches).",
    ),
]
As = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="The new table's name (default <source>-restored-<UTC time of the restore>); "
        "naming one that a restore of the source already made resumes it.",
    ),
]
Source = Annotated[
    str | None, typer.Option("--table", help="The source table's name, if not the stage's.")
]
Sample = Annotated[int, typer.Option("--sample", min=0, help="Items compared with the source.")]
WaitMinutes = Annotated[
    int, typer.Option("--wait-minutes", min=1, help="How long to wait for the restore.")
]

POLL_S = 10.0
COUNT_SEGMENTS = 16  # the sample is read from one segment of a parallel Scan, drawn at random


@dataclass
class Check:
    """What the restored table holds beside its source, read after the restore."""

    schema_matches: bool
    restored_items: int
    source_items: int
    sampled: int = 0
    identical: int = 0
    changed: list[dict[str, Any]] = field(default_factory=list)  # keys: differ in the source
    gone: list[dict[str, Any]] = field(default_factory=list)  # keys: not in the source now


def restore(
    table: LogicalTable,
    to: To = None,
    from_backup: FromBackup = None,
    new_name: As = None,
    stage: Stage = LOCAL,
    endpoint: Endpoint = None,
    source: Source = None,
    sample: Sample = 100,
    wait_minutes: WaitMinutes = 120,
) -> None:
    """Restore a table under a new name, check it, and say how to switch the stage to it."""
    with one_line_errors(lambda: endpoint):
        import boto3

        from infra import topology
        from infra.stages import STAGES

        if table not in topology.TABLES:
            raise Refused(f"no table {table!r}: use one of {', '.join(topology.TABLES)}")
        if to and from_backup:
            raise Refused("--to restores a point in time, --from-backup a backup: give one")
        when = parse_time(to) if to else None
        if stage != LOCAL and stage in STAGES:
            source = source or stage_table(stage, table)
        target = select(stage, endpoint, source or local_table(table))
        client = boto3.client("dynamodb")
        name = new_name or f"{target.table}-restored-{datetime.now(UTC):%Y%m%d%H%M}"
        started = start(client, target.table, name, when=when, backup=from_backup)
        console.print(
            f"{'restoring' if started else 'resuming the restore of'} {escape(target.table)} "
            f"as [bold]{escape(name)}[/bold] ({escape(describe_point(when, from_backup))})",
            soft_wrap=True,
        )
        with console.status("waiting for the restored table to become active..."):
            wait_active(client, name, timeout_s=wait_minutes * 60)
        stream_arn = conform(client, name, topology.TABLES[table], STAGES[stage], target.table)
        with console.status("counting items and comparing a sample with the source..."):
            check = compare(client, target.table, name, sample)
        report(check, target.table, name)
        # Not wrapped: the setting is to be copied as it stands.
        console.print(escape(switch_instructions(stage, table, name, stream_arn)), soft_wrap=True)
        if not check.schema_matches:
            raise Refused(f"{name}'s keys or indexes differ from {target.table}'s: do not use it")


def parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(f"--to {text!r} is no ISO 8601 time, e.g. 2026-12-01T09:30:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def describe_point(when: datetime | None, backup: str | None) -> str:
    if backup:
        return f"from the backup {backup}"
    return f"as it was at {when.isoformat()}" if when else "as it was at the latest restorable time"


def start(
    client: Any, source: str, name: str, *, when: datetime | None, backup: str | None
) -> bool:
    """Start the restore (True), or find it already made by a restore of `source` (False)."""
    from botocore.exceptions import ClientError

    source_arn = client.describe_table(TableName=source)["Table"]["TableArn"]
    existing = _describe(client, name)
    if existing is not None:
        summary = existing.get("RestoreSummary") or {}
        if summary.get("SourceTableArn") != source_arn:
            raise Refused(f"a table {name} exists and is no restore of {source}: pick another --as")
        return False
    # What the stack gives its tables: on-demand, encrypted with the AWS-managed key.
    overrides = {
        "BillingModeOverride": "PAY_PER_REQUEST",
        "SSESpecificationOverride": {"Enabled": True, "SSEType": "KMS"},
    }
    try:
        if backup:
            client.restore_table_from_backup(TargetTableName=name, BackupArn=backup, **overrides)
            return True
        _check_window(client, source, when)
        point = {"RestoreDateTime": when} if when else {"UseLatestRestorableTime": True}
        client.restore_table_to_point_in_time(
            SourceTableName=source, TargetTableName=name, **point, **overrides
        )
    except ClientError as error:
        raise Refused(
            f"DynamoDB refused the restore: {error.response['Error']['Message']}"
        ) from None
    return True


def _check_window(client: Any, source: str, when: datetime | None) -> None:
    backups = client.describe_continuous_backups(TableName=source)["ContinuousBackupsDescription"]
    recovery = backups.get("PointInTimeRecoveryDescription") or {}
    if recovery.get("PointInTimeRecoveryStatus") != "ENABLED":
        raise Refused(f"{source} has no point-in-time recovery: restore a backup (--from-backup)")
    if when is None:
        return
    earliest, latest = recovery["EarliestRestorableDateTime"], recovery["LatestRestorableDateTime"]
    if not earliest <= when <= latest:
        raise Refused(
            f"{source} can be restored to {earliest.isoformat()} .. {latest.isoformat()}, not "
            f"{when.isoformat()}: pick a time within, or a backup (--from-backup)"
        )


def _describe(client: Any, name: str) -> dict[str, Any] | None:
    try:
        description: dict[str, Any] = client.describe_table(TableName=name)["Table"]
    except client.exceptions.ResourceNotFoundException:
        return None
    return description


def wait_active(
    client: Any,
    name: str,
    *,
    timeout_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Until the table (and each of its indexes) is ACTIVE; a restore takes minutes to hours."""
    deadline = clock() + timeout_s
    while True:
        table = _describe(client, name) or {}
        indexes = table.get("GlobalSecondaryIndexes", [])
        if table.get("TableStatus") == "ACTIVE" and all(
            i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes
        ):
            return
        if clock() >= deadline:
            raise Refused(
                f"{name} is still {table.get('TableStatus', 'being created')}: run the same "
                f"command again with --as {name} to go on waiting"
            )
        sleep(POLL_S)


def conform(client: Any, name: str, spec: Any, stage: Any, source: str) -> str | None:
    """Give the restored table what a restore does not carry over, as the stack gives its
    tables; returns its stream's ARN (None: the topology gives the table no stream)."""
    description = client.describe_table(TableName=name)["Table"]
    stream = description.get("StreamSpecification") or {}
    if spec.stream and not stream.get("StreamEnabled"):
        client.update_table(
            TableName=name,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": spec.stream},
        )
        wait_active(client, name, timeout_s=600)
    if spec.ttl_attribute:
        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )
    _enable_point_in_time_recovery(client, name)
    if stage.retain_data:
        client.update_table(TableName=name, DeletionProtectionEnabled=True)
    client.tag_resource(
        ResourceArn=description["TableArn"],
        Tags=[
            {"Key": "project", "Value": "catalog"},
            {"Key": "stage", "Value": stage.name},
            {"Key": "catalog:restored-from", "Value": source},
        ],
    )
    latest: str | None = client.describe_table(TableName=name)["Table"].get("LatestStreamArn")
    return latest if spec.stream else None


def _enable_point_in_time_recovery(client: Any, name: str, attempts: int = 30) -> None:
    """DynamoDB refuses it for a while after a table is created (ContinuousBackupsUnavailable)."""
    for attempt in range(attempts):
        try:
            client.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
            return
        except client.exceptions.ContinuousBackupsUnavailableException:
            if attempt == attempts - 1:
                raise Refused(
                    f"point-in-time recovery of {name} is still unavailable: enable it by hand "
                    f"(aws dynamodb update-continuous-backups --table-name {name} ...)"
                ) from None
            time.sleep(POLL_S)


def _scan(client: Any, table: str, **extra: Any) -> Iterator[dict[str, Any]]:
    yield from client.get_paginator("scan").paginate(TableName=table, **extra)


def count_items(client: Any, table: str) -> int:
    """Exact, by a Scan (DescribeTable's ItemCount is refreshed only every six hours)."""
    return sum(page["Count"] for page in _scan(client, table, Select="COUNT"))


def _shape(description: dict[str, Any]) -> tuple[Any, ...]:
    indexes = sorted(
        (i["IndexName"], str(i["KeySchema"]), i["Projection"]["ProjectionType"])
        for i in description.get("GlobalSecondaryIndexes", [])
    )
    return (str(description["KeySchema"]), indexes)


def compare(
    client: Any, source: str, restored: str, sample: int, draw: random.Random | None = None
) -> Check:
    """Key schema and indexes, item counts, and `sample` restored items read again from the
    source: identical, changed since, or gone. Writes made to the source after the restore
    point show up as differences; nothing is written."""
    source_table = client.describe_table(TableName=source)["Table"]
    restored_table = client.describe_table(TableName=restored)["Table"]
    check = Check(
        schema_matches=_shape(source_table) == _shape(restored_table),
        restored_items=count_items(client, restored),
        source_items=count_items(client, source),
    )
    key_names = [k["AttributeName"] for k in restored_table["KeySchema"]]
    # Which part of the table is sampled: nothing secret rides on it.
    segment = (draw or random.Random()).randrange(COUNT_SEGMENTS)  # noqa: S311
    items: list[dict[str, Any]] = []
    for page in _scan(
        client, restored, Segment=segment, TotalSegments=COUNT_SEGMENTS, ConsistentRead=True
    ):
        items += page["Items"]
        if len(items) >= sample:
            break
    if len(items) < sample:  # a small table: its segments are sparse, read from the start
        items = [i for page in _scan(client, restored, ConsistentRead=True) for i in page["Items"]]
    for item in items[:sample]:
        key = {name: item[name] for name in key_names}
        found = client.get_item(TableName=source, Key=key, ConsistentRead=True).get("Item")
        check.sampled += 1
        if found is None:
            check.gone.append(key)
        elif found != item:
            check.changed.append(key)
        else:
            check.identical += 1
    return check


def report(check: Check, source: str, restored: str) -> None:
    table = RichTable(title=f"{restored} beside {source}", show_header=True)
    table.add_column("check")
    table.add_column("result")
    table.add_row("keys and indexes", "the same" if check.schema_matches else "[red]DIFFER[/red]")
    table.add_row(
        "items", f"{check.restored_items} restored, {check.source_items} in the source now"
    )
    table.add_row(
        "sample",
        f"{check.sampled} compared: {check.identical} identical, {len(check.changed)} changed "
        f"in the source since, {len(check.gone)} no longer in it",
    )
    console.print(table)
    for label, keys in (("changed since", check.changed), ("no longer in the source", check.gone)):
        for key in keys[:10]:
            console.print(f"  {label}: {escape(_key_text(key))}")


def _key_text(key: dict[str, Any]) -> str:
    return ", ".join(f"{name}={next(iter(value.values()))}" for name, value in key.items())


def switch_instructions(stage: str, table: str, name: str, stream_arn: str | None) -> str:
    stream = f', stream_arn="{stream_arn}"' if stream_arn else ""
    if stage == LOCAL:
        return (
            f"{name} is a copy beside the local stack's tables; the local runner always uses "
            "its own (make run). Read it, or copy what you need from it."
        )
    return (
        f"To switch {stage} to {name}: in infra/stages.py, give the {stage} stage\n"
        f'    restored_tables=(RestoredTable("{table}", "{name}"{stream}),),\n'
        f"then deploy {stage} (README, Deploying). The functions then read and write {name};"
        f" the old table leaves the stack (kept where the stage retains data). Writes made "
        f"to the old table after the restore point are not in {name}: copy any you need."
    )
