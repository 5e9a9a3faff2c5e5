"""Backups of the tables in prod (AWS Backup vault, plan, selection, failed-job alarm) and
none in dev; point-in-time recovery and deletion protection as each stage says."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Match

from infra import topology

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def only(synth: Any, cfn_type: str) -> tuple[str, dict[str, Any]]:
    (item,) = synth.of_type(cfn_type).items()
    return item


def test_prod_backs_up_every_table_daily_for_35_days_and_monthly_for_a_year(
    synth_stage: Callable[[str], Any],
) -> None:
    # Given the prod template
    prod = synth_stage("prod")
    vault_id, _ = only(prod, "AWS::Backup::BackupVault")
    plan_id, plan = only(prod, "AWS::Backup::BackupPlan")
    _, selection = only(prod, "AWS::Backup::BackupSelection")
    # Then the plan has the two rules, both into the stack's vault
    rules = {r["RuleName"]: r for r in plan["Properties"]["BackupPlan"]["BackupPlanRule"]}
    assert set(rules) == {"Daily", "Monthly"}
    assert rules["Daily"]["Lifecycle"] == {"DeleteAfterDays": 35}
    assert rules["Daily"]["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert rules["Monthly"]["Lifecycle"] == {"DeleteAfterDays": 365}
    assert rules["Monthly"]["ScheduleExpression"] == "cron(0 4 1 * ? *)"
    for rule in rules.values():
        assert rule["TargetBackupVault"] == {"Fn::GetAtt": [vault_id, "BackupVaultName"]}
    # And the selection names every table of the topology, and no other resource
    selected = selection["Properties"]["BackupSelection"]["Resources"]
    table_ids = set(prod.of_type("AWS::DynamoDB::Table"))
    assert len(table_ids) == len(topology.TABLES)
    assert {r["Fn::GetAtt"][0] for r in selected} == table_ids
    assert selection["Properties"]["BackupPlanId"] == {"Fn::GetAtt": [plan_id, "BackupPlanId"]}


def test_prod_s_vault_is_kept_and_nobody_may_delete_a_recovery_point_early(
    synth_stage: Callable[[str], Any],
) -> None:
    prod = synth_stage("prod")
    prod.template.has_resource(
        "AWS::Backup::BackupVault",
        {
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "BackupVaultName": "catalog-prod-tables",
                    "AccessPolicy": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Deny",
                                "Principal": {"AWS": "*"},
                                "Action": [
                                    "backup:DeleteRecoveryPoint",
                                    "backup:UpdateRecoveryPointLifecycle",
                                ],
                                "Resource": "*",
                            }
                        ],
                    },
                }
            ),
        },
    )


def test_prod_tables_keep_point_in_time_recovery_and_deletion_protection(
    synth_stage: Callable[[str], Any],
) -> None:
    for name, protected in (("prod", True), ("dev", False)):
        synth = synth_stage(name)
        for table_id, table in synth.of_type("AWS::DynamoDB::Table").items():
            properties = table["Properties"]
            assert properties["PointInTimeRecoverySpecification"] == {
                "PointInTimeRecoveryEnabled": True
            }, (name, table_id)
            assert properties.get("DeletionProtectionEnabled", False) is protected, table_id
            assert table["DeletionPolicy"] == ("Retain" if protected else "Delete"), table_id


def test_a_failed_aborted_or_expired_backup_job_alarms_the_ops_topic(
    synth_stage: Callable[[str], Any],
) -> None:
    prod = synth_stage("prod")
    vault_id, _ = only(prod, "AWS::Backup::BackupVault")
    (topic_id,) = [k for k in prod.of_type("AWS::SNS::Topic") if k.startswith("OpsTopic")]
    (alarm,) = [
        a["Properties"]
        for k, a in prod.of_type("AWS::CloudWatch::Alarm").items()
        if k.startswith("BackupJobsFailedAlarm")
    ]
    # One failed job in an hour is enough; hours without jobs are not a breach
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    assert alarm["OKActions"] == [{"Ref": topic_id}]
    stats = {m["Id"]: m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert {s["Metric"]["MetricName"] for s in stats.values()} == {
        "NumberOfBackupJobsFailed",
        "NumberOfBackupJobsAborted",
        "NumberOfBackupJobsExpired",
    }
    for stat in stats.values():
        assert stat["Metric"]["Namespace"] == "AWS/Backup"
        assert stat["Metric"]["Dimensions"] == [
            {"Name": "BackupVaultName", "Value": {"Fn::GetAtt": [vault_id, "BackupVaultName"]}}
        ]
        assert stat["Stat"] == "Sum"
        assert stat["Period"] == 3600
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert expression["Expression"] == " + ".join(f"FILL({i}, 0)" for i in sorted(stats))


def test_dev_has_no_backup_plan_as_its_tables_go_with_the_stack(dev: Any) -> None:
    # A vault holding recovery points cannot be deleted: it would block deleting dev.
    for cfn_type in ("AWS::Backup::BackupVault", "AWS::Backup::BackupPlan"):
        assert dev.of_type(cfn_type) == {}
    assert "AWS/Backup" not in json.dumps(dev.of_type("AWS::CloudWatch::Alarm"))


def test_a_stage_switched_to_a_restored_table_uses_and_backs_it_up_without_owning_it() -> None:
    from dataclasses import replace

    from aws_cdk import App, Stack
    from aws_cdk.assertions import Template

    from infra.stack.backups import Backups
    from infra.stack.data import Data
    from infra.stages import RestoredTable, stage as stage_config

    # Given prod switched to a restored products table (as `catalog restore` prints it)
    stream = "arn:aws:dynamodb:us-east-1:111122223333:table/restored-p/stream/2026-12-01T10:00"
    stage = replace(
        stage_config("prod"),
        restored_tables=(RestoredTable("products", "restored-p", stream_arn=stream),),
    )
    stack = Stack(App(), "Switched")
    # When the data and its backups are built
    data = Data(stack, "Data", stage=stage)
    Backups(stack, "Backups", stage=stage, tables=data.tables)
    template = Template.from_stack(stack).to_json()
    # Then the stack creates every table but products, and refers to the restored one
    tables = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert len(tables) == len(topology.TABLES) - 1
    assert stack.resolve(data.tables["products"].table_name) == "restored-p"
    assert data.tables["products"].table_stream_arn == stream
    # And the backup plan covers the restored table too
    (selection,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::Backup::BackupSelection"
    ]
    assert "table/restored-p" in json.dumps(selection["Properties"]["BackupSelection"])


def test_a_restored_table_without_the_stream_its_topology_declares_is_refused() -> None:
    from dataclasses import replace

    from aws_cdk import App, Stack

    from infra.stack.data import Data
    from infra.stages import RestoredTable, stage as stage_config

    stage = replace(stage_config("prod"), restored_tables=(RestoredTable("products", "r"),))
    with pytest.raises(SystemExit, match="stream_arn"):
        Data(Stack(App(), "Switched"), "Data", stage=stage)
