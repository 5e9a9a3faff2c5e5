"""The deploy-time migration runner: a state machine, and the deploy's wait for it.

A deploy applies the pending data migrations (catalog.migrations) after the functions run
the new code, and fails when a migration fails:

    CloudFormation ──custom resource──> provider (start, then poll every 30 s, up to 1 h)
                                            │ StartExecution / DescribeExecution
                                            ▼
              state machine: invoke `migrations` ──done?──> yes: succeed
                                  ▲                 │ failed: fail (the one-line message)
                                  └──── no ─────────┘

Why this order: the new code reads items of both schema versions (upgrade on read) and
writes only the latest, so migrating after it is live leaves no item behind. Migrating
before would let the old code go on writing items of the old version behind the run.
One invocation stops before Lambda's 15 minutes (functions/migrations/handler.py) and the
state machine invokes it again, resuming from the checkpoint; CloudFormation waits for a
custom resource an hour at most, hence the state machine's timeout just below it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from aws_cdk import (
    CfnElement,
    CustomResource,
    Duration,
    Stack,
    aws_cloudwatch as cloudwatch,
    aws_iam as iam,
    aws_lambda as lambda_,
    aws_logs as logs,
    aws_stepfunctions as sfn,
    aws_stepfunctions_tasks as tasks,
    custom_resources as cr,
)
from constructs import Construct, IConstruct

from infra.stack import base
from infra.stack.base import ARCHITECTURE, PYTHON, ROOT, Concern
from infra.stages import Stage

MIGRATIONS_PACKAGE = ROOT / "layers" / "core" / "catalog" / "migrations"
WAITER_CODE = ROOT / "infra" / "stack" / "migration_waiter"
# CloudFormation waits for a custom resource one hour at most (the provider's limit too);
# the state machine stops first, so the deploy fails with its message, not the provider's.
PROVIDER_TIMEOUT = Duration.hours(1)
STATE_MACHINE_TIMEOUT = Duration.minutes(55)
POLL_INTERVAL = Duration.seconds(30)
# Errors of the Lambda service itself (not of the function): retried with backoff.
LAMBDA_SERVICE_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)


def migrations_fingerprint() -> str:
    """A digest of the migrations package (engine and steps): a deploy that changes it
    updates the custom resource, which runs the migrations. (None yet: a constant.)"""
    digest = hashlib.sha256()
    if MIGRATIONS_PACKAGE.is_dir():
        for path in sorted(MIGRATIONS_PACKAGE.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                digest.update(path.relative_to(MIGRATIONS_PACKAGE).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


class Migrations(Concern):
    """Exposes `state_machine`, `failure_alarm` and `deploy_run` (the custom resource);
    needs the `migrations` function and what must be deployed before it runs (`after`:
    every function, so that the new code is live)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        function: lambda_.IFunction,
        after: Sequence[IConstruct],
    ) -> None:
        super().__init__(scope, construct_id, stage=stage)
        self.state_machine = self._build_state_machine(function)
        self.failure_alarm = self._build_failure_alarm()
        self.deploy_run = self._build_deploy_run(after)

    def _build_state_machine(self, function: lambda_.IFunction) -> sfn.StateMachine:
        migrate = tasks.LambdaInvoke(
            self,
            "Migrate",
            lambda_function=function,
            # The execution is the runner the migration state records (and the lease names).
            payload=sfn.TaskInput.from_object(
                {"runner": sfn.JsonPath.format("deploy:{}", sfn.JsonPath.execution_name)}
            ),
            payload_response_only=True,
            result_path="$.run",
            retry_on_service_exceptions=False,  # the retry below, with throttling added
        )
        migrate.add_retry(
            errors=list(LAMBDA_SERVICE_ERRORS),
            interval=Duration.seconds(2),
            max_attempts=6,
            backoff_rate=2,
        )
        failed = sfn.Fail(
            self,
            "MigrationFailed",
            error_path=sfn.JsonPath.string_at("$.run.failed.error"),
            cause_path=sfn.JsonPath.string_at("$.run.failed.cause"),
        )
        done = sfn.Succeed(self, "MigrationsDone")
        next_step = (
            sfn.Choice(self, "DoneOrFailed")
            .when(sfn.Condition.is_present("$.run.failed"), failed)
            .when(sfn.Condition.boolean_equals("$.run.done", True), done)
            .otherwise(migrate)  # not done: the deadline came first; resume
        )
        log_group = logs.LogGroup(
            self,
            "MigrationsStateMachineLogs",
            retention=self.log_retention,
            removal_policy=self.removal,
        )
        state_machine = sfn.StateMachine(
            self,
            "MigrationsStateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(migrate.next(next_step)),
            timeout=STATE_MACHINE_TIMEOUT,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
            comment=f"catalog {self.stage.name}: apply the pending data migrations",
        )
        base.acknowledge(
            state_machine.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions' logging to CloudWatch Logs (logs:CreateLogDelivery and the other "
            "log-delivery actions) and X-Ray's PutTraceSegments support no resource-level "
            "permissions, so AWS requires Resource '*' for them.",
        )
        base.acknowledge(
            state_machine.role,
            f"AwsSolutions-IAM5[Resource::<{self._logical_id(function)}.Arn>:*]",
            "Invoking the migrations function by any of its versions (the ARN with ':*'), "
            "which is how Step Functions' Lambda integration grants it; the function itself "
            "is named, nothing else can be invoked.",
        )
        return state_machine

    def _build_failure_alarm(self) -> cloudwatch.Alarm:
        period = Duration.minutes(5)
        metric = cloudwatch.MathExpression(
            expression="FILL(failed, 0) + FILL(timedOut, 0)",
            using_metrics={
                "failed": self.state_machine.metric_failed(period=period, statistic="Sum"),
                "timedOut": self.state_machine.metric_timed_out(period=period, statistic="Sum"),
            },
            period=period,
            label="migration runs failed or timed out",
        )
        return base.any_occurrence_alarm(
            self,
            "MigrationsFailedAlarm",
            f"catalog {self.stage.name}: a data migration run failed",
            metric,
        )

    def _build_deploy_run(self, after: Sequence[IConstruct]) -> CustomResource:
        start = self._build_waiter_function(
            "MigrationsStart", "on_event", "starts the data migrations on a deploy"
        )
        start.add_environment("STATE_MACHINE_ARN", self.state_machine.state_machine_arn)
        self.state_machine.grant_start_execution(start)
        start.add_to_role_policy(
            iam.PolicyStatement(
                actions=["cloudformation:DescribeStacks"], resources=[Stack.of(self).stack_id]
            )
        )
        poll = self._build_waiter_function(
            "MigrationsPoll", "is_complete", "waits for the data migrations of a deploy"
        )
        stack = Stack.of(self)
        poll.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:DescribeExecution"],
                resources=[
                    f"arn:{stack.partition}:states:{stack.region}:{stack.account}:execution:"
                    f"{self.state_machine.state_machine_name}:*"
                ],
            )
        )
        assert poll.role is not None
        base.acknowledge(
            poll.role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:"
            f"<AWS::AccountId>:execution:<{self._logical_id(self.state_machine)}.Name>:*]",
            "DescribeExecution of the migrations state machine's executions: each deploy "
            "starts one with a new name, so the policy can only name the state machine and "
            "leave the execution's name open.",
        )
        provider = self._build_provider(start, poll)
        run = CustomResource(
            self,
            "DataMigrations",
            service_token=provider.service_token,
            resource_type="Custom::DataMigrations",
            properties={"Migrations": migrations_fingerprint()},
        )
        for construct in after:
            run.node.add_dependency(construct)
        return run

    def _build_provider(self, start: lambda_.Function, poll: lambda_.Function) -> cr.Provider:
        """aws-cdk-lib's provider framework: its functions call ours, its state machine
        polls `poll` every POLL_INTERVAL. Its roles are ours, so that they write to one log
        group of ours instead of holding AWSLambdaBasicExecutionRole (any log group)."""
        log_group = logs.LogGroup(
            self,
            "MigrationsProviderLogs",
            retention=self.log_retention,
            removal_policy=self.removal,
        )
        roles = [
            iam.Role(
                self,
                f"MigrationsProvider{name}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"catalog {self.stage.name}: the migrations provider's {what}",
            )
            for name, what in (("OnEvent", "onEvent"), ("Complete", "isComplete and onTimeout"))
        ]
        for role in roles:
            log_group.grant_write(role)
        provider = cr.Provider(
            self,
            "MigrationsProvider",
            on_event_handler=start,
            is_complete_handler=poll,
            query_interval=POLL_INTERVAL,
            total_timeout=PROVIDER_TIMEOUT,
            framework_on_event_role=roles[0],
            framework_complete_and_timeout_role=roles[1],
            log_group=log_group,
            disable_waiter_state_machine_logging=False,
            waiter_state_machine_log_options=cr.LogOptions(
                destination=log_group, level=sfn.LogLevel.ALL
            ),
        )
        invoke_reason = (
            "The provider framework invokes its handler functions by any of their versions "
            "(the ARN with ':*'); each function is named, nothing else can be invoked."
        )
        for role in roles:  # the framework's functions invoke ours
            for function in (start, poll):
                base.acknowledge(
                    role,
                    f"AwsSolutions-IAM5[Resource::<{self._logical_id(function)}.Arn>:*]",
                    invoke_reason,
                )
        for name in ("framework-isComplete", "framework-onTimeout"):  # its waiter, its own
            base.acknowledge(
                provider,
                "AwsSolutions-IAM5[Resource::"
                f"<{self._logical_id(provider.node.find_child(name))}.Arn>:*]",
                invoke_reason,
            )
        base.acknowledge(
            provider,
            "AwsSolutions-IAM5[Resource::*]",
            "The provider's waiter state machine logs to CloudWatch Logs: the log-delivery "
            "actions (logs:CreateLogDelivery and the others) support no resource-level "
            "permissions, so AWS requires Resource '*' for them.",
        )
        base.acknowledge(
            provider,
            "AwsSolutions-SF2",
            "The provider framework's waiter state machine offers no tracing setting; it only "
            "polls the migrations, whose own state machine (and its function) are traced.",
        )
        return provider

    def _build_waiter_function(
        self, construct_id: str, handler: str, what: str
    ) -> lambda_.Function:
        log_group, role = self._build_function_logs(
            construct_id, f"catalog {self.stage.name}: {what}"
        )
        function = lambda_.Function(
            self,
            construct_id,
            runtime=PYTHON,
            architecture=ARCHITECTURE,
            handler=f"handler.{handler}",
            code=base.code_asset(WAITER_CODE),
            memory_size=128,
            timeout=Duration.seconds(30),
            log_group=log_group,
            role=role,
            description=f"catalog {self.stage.name}: {what}",
        )
        base.acknowledge(
            function,
            "AwsSolutions-L1",
            "Python 3.12, the runtime every function of the catalog runs on (its layer is "
            "built for it); moving runtime is one deliberate change for all of them.",
        )
        return function

    def _logical_id(self, construct: IConstruct) -> str:
        default = construct.node.default_child
        assert isinstance(default, CfnElement)
        logical_id: str = Stack.of(self).resolve(default.logical_id)
        return logical_id
