"""What every concern construct of the stack shares: its base class, names, retention, cdk-nag."""

from __future__ import annotations

import re
from pathlib import Path

from aws_cdk import (
    Acknowledgment,
    RemovalPolicy,
    Validations,
    aws_cloudwatch as cloudwatch,
    aws_iam as iam,
    aws_lambda as lambda_,
    aws_logs as logs,
)
from constructs import Construct, IConstruct

from infra.layer_pruning import NOT_SHIPPED
from infra.stages import Stage

ROOT = Path(__file__).resolve().parents[2]
LAYER_ASSETS = ROOT / ".build" / "layers"  # written by scripts/build_layers.py

PYTHON = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64


def code_asset(folder: Path) -> lambda_.Code:
    """A function's or a layer's code from `folder`, as it ships: with the runtime's bytecode
    and not what local runs leave beside it (infra/layer_pruning.py, NOT_SHIPPED)."""
    return lambda_.Code.from_asset(str(folder), exclude=list(NOT_SHIPPED))


# jsii enums carry names, not numbers: the CloudWatch Logs retention periods by day count.
RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def construct_name(logical: str) -> str:
    """`cursor-key` -> `CursorKey`: a stable construct id part for a topology name."""
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", logical) if part)


def retention(days: int) -> logs.RetentionDays:
    try:
        return RETENTION[days]
    except KeyError:
        raise ValueError(f"CloudWatch Logs has no {days}-day retention") from None


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept one cdk-nag finding on `scope` (and below), with the reason it is acceptable.

    Constructs call it as `base.acknowledge(...)`, through this module, so that a test can
    replace this one attribute and see every acknowledgment the stack makes.
    """
    # The bare rule id (not the report's `AwsSolutions::` form): cdk-nag itself honours it,
    # both in the synth-time plugin run and in NagPack.validate_scope, which tests use.
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def any_occurrence_alarm(
    scope: Construct, construct_id: str, description: str, metric: cloudwatch.IMetric
) -> cloudwatch.Alarm:
    """An alarm raised by a single occurrence in one period (an error, a dead letter, a
    failed run); no data means nothing happened, which is fine."""
    return cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_description=description,
        metric=metric,
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


class Concern(Construct):
    """One concern of the stack (data, identity, functions...): the scope of its resources.

    A concern is left out of its resources' logical ids (see `logical_ids`), so moving a
    resource from one concern to another, or into one, never replaces it on deploy.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.removal = RemovalPolicy.RETAIN if stage.retain_data else RemovalPolicy.DESTROY
        self.log_retention = retention(stage.log_retention_days)

    def _build_function_logs(
        self, construct_id: str, role_description: str
    ) -> tuple[logs.LogGroup, iam.Role]:
        """A function's own log group (`<id>Logs`) and role (`<id>Role`) that writes to it.

        An own role instead of AWSLambdaBasicExecutionRole: that managed policy lets the
        function create log groups and write to any of them; this one writes to its own.
        """
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            retention=self.log_retention,
            removal_policy=self.removal,
        )
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=role_description,
        )
        log_group.grant_write(role)
        return log_group, role
