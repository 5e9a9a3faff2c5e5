"""The Lambda functions: the core layer, one function per topology entry, least privilege."""

from __future__ import annotations

from aws_cdk import (
    Annotations,
    Duration,
    Stack,
    Tags,
    aws_iam as iam,
    aws_lambda as lambda_,
    aws_logs as logs,
    aws_s3 as s3,
)
from constructs import Construct

from infra import topology
from infra.stack import base
from infra.stack.base import (
    ARCHITECTURE,
    LAYER_ASSETS,
    PYTHON,
    ROOT,
    Concern,
    construct_name,
)
from infra.stack.data import Data
from infra.stack.events import Events
from infra.stack.identity import Identity
from infra.stack.media import Media
from infra.stages import Stage

# Tag on every function, so tests (and people in the console) can map a deployed function
# back to its topology name without parsing logical ids.
FUNCTION_TAG = "catalog:function"

TABLE_READ_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
TABLE_WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)
# Only for "migrate" access (with the write actions): a migration reads every item.
TABLE_SCAN_ACTIONS = ("dynamodb:Scan",)
# What a function may do to a queue it declares: send, and reschedule a message it
# received (ChangeMessageVisibility: a retry after a growing delay).
QUEUE_SEND_ACTIONS = (
    "sqs:SendMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
)
BUCKET_READ_ACTIONS = ("s3:GetObject",)
# PutObject also covers a multipart upload's create, parts and completion; giving one up
# (an export that failed) is an action of its own.
BUCKET_WRITE_ACTIONS = ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")


def table_actions(access: topology.TableAccess) -> tuple[str, ...]:
    """The DynamoDB actions a function's declared access to a table allows."""
    if access == "read":
        return TABLE_READ_ACTIONS
    if access == "write":
        return TABLE_READ_ACTIONS + TABLE_WRITE_ACTIONS
    return TABLE_READ_ACTIONS + TABLE_WRITE_ACTIONS + TABLE_SCAN_ACTIONS


# What API Gateway invokes where the stage turns SnapStart on: a function's alias of this
# name, which each deploy moves to the version it publishes (and snapshots).
LIVE_ALIAS = "live"


def api_functions() -> frozenset[str]:
    """The topology functions that serve routes (those SnapStart is for: a caller waits on
    their cold start)."""
    return frozenset(route.function for route in topology.ROUTES)


class Functions(Concern):
    """Exposes `layers`, `functions`, `roles` and `log_groups` by name, and `api_targets`:
    what the API invokes for each function (its `live` alias where the stage has SnapStart,
    else the function); needs the data, identity, events and media concerns: a function's
    environment names their resources, its role grants them."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        data: Data,
        identity: Identity,
        events: Events,
        media: Media,
    ) -> None:
        super().__init__(scope, construct_id, stage=stage)
        self.data, self.identity, self.events, self.media = data, identity, events, media
        self.layers = {"core": self._build_core_layer()}
        if media.layer is not None:
            self.layers["images"] = media.layer
        self.roles: dict[str, iam.Role] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        self.functions = {
            name: self._build_function(spec) for name, spec in topology.FUNCTIONS.items()
        }
        self.aliases = {
            name: self._build_live_alias(self.functions[name])
            for name in sorted(api_functions())
            if stage.snapstart
        }
        self.api_targets: dict[str, lambda_.IFunction] = {
            name: self.aliases.get(name, function) for name, function in self.functions.items()
        }

    def _build_core_layer(self) -> lambda_.LayerVersion:
        folder = LAYER_ASSETS / "core"
        if not (folder / "python" / "catalog").is_dir():
            raise SystemExit(f"{folder} is missing: run `make build` (scripts/build_layers.py)")
        return lambda_.LayerVersion(
            self,
            "CoreLayer",
            code=base.code_asset(folder),
            compatible_runtimes=[PYTHON],
            compatible_architectures=[ARCHITECTURE],
            description="catalog package and its third-party runtime dependencies",
        )

    def _build_function(self, spec: topology.Function) -> lambda_.Function:
        construct_id = f"Fn{construct_name(spec.name)}"
        missing = [name for name in spec.built if not (ROOT / spec.code / name).is_file()]
        if missing:
            raise SystemExit(f"{spec.code} lacks {', '.join(missing)}: run `make build`")
        log_group, role = self._build_function_logs(
            construct_id, f"catalog {self.stage.name}: the {spec.name} function"
        )
        self.log_groups[spec.name] = log_group
        function = lambda_.Function(
            self,
            construct_id,
            runtime=PYTHON,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=base.code_asset(ROOT / spec.code),
            layers=[self.layers[name] for name in spec.layers],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            role=role,
            environment=self._environment(spec),
            description=f"catalog {self.stage.name}: {spec.name}",
            snap_start=(
                lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS
                if self.stage.snapstart and spec.name in api_functions()
                else None
            ),
        )
        Tags.of(function).add(FUNCTION_TAG, spec.name)
        self.roles[spec.name] = role
        self._grant_data(role, spec)
        if spec.user_pool == "admin":  # "verify" checks tokens on the public JWKS: no IAM
            self.identity.grant_user_administration(role)
        self._grant_events(role, spec)
        self._acknowledge_function(function, role, spec)
        return function

    def _build_live_alias(self, function: lambda_.Function) -> lambda_.Alias:
        """The alias the API invokes: each deploy publishes a version of the function (its
        snapshot is taken then) and moves the alias to it; the version before is deleted."""
        # CDK warns that SnapStart needs a published version: this is the one.
        Annotations.of(function).acknowledge_warning(
            "@aws-cdk/aws-lambda:snapStartRequirePublish",
            "the live alias below publishes a version on every deploy",
        )
        return lambda_.Alias(
            self,
            f"{function.node.id}Live",
            alias_name=LIVE_ALIAS,
            version=function.current_version,
        )

    def _environment(self, spec: topology.Function) -> dict[str, str]:
        events = self.events
        return topology.function_environment(
            spec,
            stage=self.stage.name,
            table_names={name: table.table_name for name, table in self.data.tables.items()},
            secret_ids={name: secret.secret_arn for name, secret in self.data.secrets.items()},
            user_pool=self.identity.refs,
            settings=self.stage.function_settings(),
            bucket_names={name: bucket.bucket_name for name, bucket in events.buckets.items()},
            topic_arns={name: topic.topic_arn for name, topic in events.topics.items()},
            queue_urls={name: queue.queue_url for name, queue in events.queues.items()},
            images_base_url=self.media.images_base_url,
        )

    def _grant_data(self, role: iam.Role, spec: topology.Function) -> None:
        for table_name, access in spec.tables.items():
            # Explicit actions rather than table.grant_read_data: that grant adds Scan and
            # GetRecords, which no function needs, and an `index/*` wildcard.
            table = self.data.tables[table_name]
            actions = table_actions(access)
            resources = [table.table_arn]
            resources += [
                f"{table.table_arn}/index/{index.name}"
                for index in topology.TABLES[table_name].indexes
            ]
            role.add_to_policy(iam.PolicyStatement(actions=list(actions), resources=resources))
        for secret_name in spec.secrets:
            self.data.secrets[secret_name].grant_read(role)

    def _grant_events(self, role: iam.Role, spec: topology.Function) -> None:
        for topic_name in spec.topics:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["sns:Publish"], resources=[self.events.topics[topic_name].topic_arn]
                )
            )
        for queue_name in spec.queues:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=list(QUEUE_SEND_ACTIONS),
                    resources=[self.events.queues[queue_name].queue_arn],
                )
            )
        if spec.sends_email:
            self._grant_email(role)
        for bucket_name, access in spec.buckets.items():
            self._grant_bucket(role, bucket_name, access)

    def _grant_email(self, role: iam.Role) -> None:
        stack = Stack.of(self)
        sender = self.stage.email_sender
        identities = [sender, sender.rpartition("@")[2]]  # SES authorizes either
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail"],
                resources=[
                    f"arn:{stack.partition}:ses:{stack.region}:{stack.account}:identity/{i}"
                    for i in identities
                ],
            )
        )

    def _grant_bucket(self, role: iam.Role, bucket_name: str, access: str) -> None:
        bucket = self.events.buckets[bucket_name]
        actions = BUCKET_READ_ACTIONS + (BUCKET_WRITE_ACTIONS if access == "write" else ())
        role.add_to_policy(
            iam.PolicyStatement(actions=list(actions), resources=[bucket.arn_for_objects("*")])
        )
        cfn_bucket = bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        logical_id = Stack.of(self).resolve(cfn_bucket.logical_id)
        base.acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/*]",
            f"Object-level {access} access to the {bucket_name} bucket, which the topology "
            "grants this function: object keys are made per upload, so they cannot be "
            "listed in the policy; the actions are listed one by one.",
        )

    def _acknowledge_function(
        self, function: lambda_.Function, role: iam.Role, spec: topology.Function
    ) -> None:
        reads_stream = any(s.consumer == spec.name for s in topology.STREAMS)
        base.acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments and PutTelemetryRecords "
            "support no resource-level permissions, so AWS requires Resource '*'."
            + (
                " The stream event source's dynamodb:ListStreams has none either."
                if reads_stream
                else ""
            ),
        )
        base.acknowledge(
            function,
            "AwsSolutions-L1",
            "Python 3.12 is the platform the shared layer is built for (scripts/build_layers.py "
            "pins manylinux2014_aarch64 / 3.12); moving runtime means rebuilding and retesting "
            "that layer, a deliberate change rather than a drift to the newest runtime.",
        )
