"""Backups of the tables: an AWS Backup vault and plan, and the alarm on failed backup jobs.

Point-in-time recovery (every table, `Data`) restores any second of the last 35 days; the
plan adds recovery points that outlive it and the stack: a daily one kept
`backup_daily_retention_days`, a monthly one kept `backup_monthly_retention_days` (prod: 35
and 365). Where the stage keeps its data (`retain_data`), the vault is protected twice: its
access policy denies everyone `backup:DeleteRecoveryPoint` and
`backup:UpdateRecoveryPointLifecycle` (recovery points expire only by their rule), and the
vault is retained when the stack is deleted. A vault lock (WORM) is not used: in compliance
mode it can never be undone, not even to fix a retention set wrong, and in governance mode
it stops no more than the access policy does. How to restore: README, "Backups and restore".
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import (
    Duration,
    RemovalPolicy,
    aws_backup as backup,
    aws_cloudwatch as cloudwatch,
    aws_dynamodb as dynamodb,
    aws_events as events,
)
from constructs import Construct

from infra.stack import base
from infra.stack.base import Concern
from infra.stages import Stage

# When the jobs start (UTC): after the night's quietest hour, the monthly one an hour later
# so the two never compete on the first of the month. A job may wait an hour to start and
# must finish within eight (a table's backup is a snapshot: minutes even when large).
DAILY_AT = events.Schedule.cron(hour="3", minute="0")
MONTHLY_AT = events.Schedule.cron(day="1", hour="4", minute="0")
START_WITHIN = Duration.hours(1)
COMPLETE_WITHIN = Duration.hours(8)
# The job outcomes that leave a day without its recovery point, summed for the alarm.
FAILED_JOB_METRICS = (
    "NumberOfBackupJobsFailed",
    "NumberOfBackupJobsAborted",
    "NumberOfBackupJobsExpired",
)


class Backups(Concern):
    """Exposes `vault`, `plan` and `failure_alarm` (all None where the stage keeps no
    backups); needs the tables."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        tables: Mapping[str, dynamodb.ITable],
    ) -> None:
        super().__init__(scope, construct_id, stage=stage)
        self.vault: backup.BackupVault | None = None
        self.plan: backup.BackupPlan | None = None
        self.failure_alarm: cloudwatch.Alarm | None = None
        if stage.backup_daily_retention_days is None:
            return
        self.vault = self._build_vault()
        self.plan = self._build_plan(self.vault, tables)
        self.failure_alarm = self._build_failure_alarm(self.vault)

    def _build_vault(self) -> backup.BackupVault:
        protected = self.stage.retain_data
        return backup.BackupVault(
            self,
            "BackupVault",
            # Named, not derived from the construct path: a name is the vault's identity.
            backup_vault_name=f"catalog-{self.stage.name}-tables",
            block_recovery_point_deletion=protected,
            removal_policy=RemovalPolicy.RETAIN if protected else RemovalPolicy.DESTROY,
        )

    def _build_plan(
        self, vault: backup.BackupVault, tables: Mapping[str, dynamodb.ITable]
    ) -> backup.BackupPlan:
        plan = backup.BackupPlan(
            self,
            "BackupPlan",
            backup_plan_name=f"catalog-{self.stage.name}-tables",
            backup_vault=vault,
        )
        plan.add_rule(self._rule("Daily", DAILY_AT, self.stage.backup_daily_retention_days))
        if self.stage.backup_monthly_retention_days is not None:
            plan.add_rule(
                self._rule("Monthly", MONTHLY_AT, self.stage.backup_monthly_retention_days)
            )
        selection = plan.add_selection(
            "BackupTables",
            resources=[backup.BackupResource.from_dynamo_db_table(t) for t in tables.values()],
            # The same role restores a recovery point (README, "Backups and restore").
            allow_restores=True,
        )
        for policy in (
            "AWSBackupServiceRolePolicyForBackup",
            "AWSBackupServiceRolePolicyForRestores",
        ):
            base.acknowledge(
                selection,
                f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/{policy}]",
                f"{policy} is the policy AWS maintains for AWS Backup itself to snapshot (or "
                "restore) the selected tables; the role is assumable by backup.amazonaws.com only.",
            )
        return plan

    def _rule(
        self, name: str, schedule: events.Schedule, days: int | None
    ) -> backup.BackupPlanRule:
        assert days is not None
        return backup.BackupPlanRule(
            rule_name=name,
            schedule_expression=schedule,
            start_window=START_WITHIN,
            completion_window=COMPLETE_WITHIN,
            delete_after=Duration.days(days),
        )

    def _build_failure_alarm(self, vault: backup.BackupVault) -> cloudwatch.Alarm:
        metrics = {
            f"m{i}": cloudwatch.Metric(
                namespace="AWS/Backup",
                metric_name=name,
                dimensions_map={"BackupVaultName": vault.backup_vault_name},
                statistic="Sum",
                period=Duration.hours(1),
            )
            for i, name in enumerate(FAILED_JOB_METRICS)
        }
        missed = cloudwatch.MathExpression(
            expression=" + ".join(f"FILL({m}, 0)" for m in metrics),
            using_metrics=metrics,
            label="backup jobs failed, aborted or expired",
            period=Duration.hours(1),
        )
        return base.any_occurrence_alarm(
            self,
            "BackupJobsFailedAlarm",
            f"catalog {self.stage.name}: a backup job of the tables failed, was aborted or "
            "expired unstarted (AWS Backup console, Jobs); the day has no recovery point "
            "until it is run again (point-in-time recovery still covers it).",
            missed,
        )
