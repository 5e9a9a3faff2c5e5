"""The catalog's CloudFormation stack, built only from `infra.topology` and one `Stage`."""

from __future__ import annotations

import json
import re
from pathlib import Path

from aws_cdk import (
    Acknowledgment,
    Annotations,
    CfnOutput,
    Duration,
    Environment,
    RemovalPolicy,
    Stack,
    Tags,
    Validations,
    aws_apigateway as apigateway,
    aws_cloudfront as cloudfront,
    aws_cloudfront_origins as origins,
    aws_cloudwatch as cloudwatch,
    aws_cognito as cognito,
    aws_dynamodb as dynamodb,
    aws_iam as iam,
    aws_kms as kms,
    aws_lambda as lambda_,
    aws_lambda_event_sources as event_sources,
    aws_logs as logs,
    aws_s3 as s3,
    aws_secretsmanager as secretsmanager,
    aws_sns as sns,
    aws_sns_subscriptions as sns_subscriptions,
    aws_sqs as sqs,
)
from constructs import Construct, IConstruct

from infra import gateway_responses, topology
from infra.stages import Stage

ROOT = Path(__file__).resolve().parents[1]
LAYER_ASSETS = ROOT / ".build" / "layers"  # written by scripts/build_layers.py

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

# What a function with `user_pool="admin"` may do to users, on the pool's ARN only. The
# public APIs the auth function calls (SignUp, InitiateAuth, GlobalSignOut...) take the
# caller's own token or password and need no IAM permission.
COGNITO_ADMIN_ACTIONS = (
    "cognito-idp:AdminAddUserToGroup",
    "cognito-idp:AdminRemoveUserFromGroup",
    "cognito-idp:AdminListGroupsForUser",
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminEnableUser",
    "cognito-idp:AdminUserGlobalSignOut",
)
# Only in stages with `auto_confirm_users`: the auth function confirms sign-ups itself
# (and marks the email verified) instead of waiting for the emailed code.
COGNITO_AUTO_CONFIRM_ACTIONS = (
    "cognito-idp:AdminConfirmSignUp",
    "cognito-idp:AdminUpdateUserAttributes",
)

# What a function may do to a queue it declares: send, and reschedule a message it
# received (ChangeMessageVisibility: a retry after a growing delay).
QUEUE_SEND_ACTIONS = (
    "sqs:SendMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
)
BUCKET_READ_ACTIONS = ("s3:GetObject",)
BUCKET_WRITE_ACTIONS = ("s3:PutObject", "s3:DeleteObject")

PASSWORD_MIN_LENGTH = 12
ACCESS_TOKEN_VALIDITY = Duration.hours(1)
ID_TOKEN_VALIDITY = Duration.hours(1)
REFRESH_TOKEN_VALIDITY = Duration.days(30)

PYTHON = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64

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


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept one cdk-nag finding on `scope` (and below), with the reason it is acceptable."""
    # The bare rule id (not the report's `AwsSolutions::` form): cdk-nag itself honours it,
    # both in the synth-time plugin run and in NagPack.validate_scope, which tests use.
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


class CatalogStack(Stack):
    """Tables, secrets, the user pool, the core layer, the functions and the REST API."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        env: Environment | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, description=description)
        topology.validate()
        self.stage = stage
        self.removal = RemovalPolicy.RETAIN if stage.retain_data else RemovalPolicy.DESTROY
        self.log_retention = _retention(stage.log_retention_days)
        Tags.of(self).add("project", topology.SERVICE_NAME)
        Tags.of(self).add("stage", stage.name)

        self.tables = {name: self._table(spec) for name, spec in topology.TABLES.items()}
        self.secrets = {name: self._secret(spec) for name, spec in topology.SECRETS.items()}
        self.user_pool, self.user_pool_client = self._user_pool(topology.USER_POOL)
        self.layers = {"core": self._core_layer()}
        # Event plumbing before the functions: their environment names queues and topics.
        self._event_plumbing()
        # Product images: Pillow's layer, and CloudFront in front of the media bucket.
        if any("images" in spec.layers for spec in topology.FUNCTIONS.values()):
            self.layers["images"] = self._images_layer()
        self.images_cdn = (
            self._media_delivery() if topology.MEDIA_BUCKET in topology.BUCKETS else None
        )
        self.functions = {name: self._function(spec) for name, spec in topology.FUNCTIONS.items()}
        self._event_sources()
        self.api = self._api()
        self._monitoring()
        # One output under a stable key, instead of RestApi's hash-suffixed `ApiEndpoint…`.
        self.api.node.try_remove_child("Endpoint")
        CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the catalog API")
        CfnOutput(
            self,
            "UserPoolId",
            value=self.user_pool.user_pool_id,
            description="Cognito user pool of the catalog's users",
        )
        CfnOutput(
            self,
            "UserPoolClientId",
            value=self.user_pool_client.user_pool_client_id,
            description="App client the API's sign-in endpoints use (no secret)",
        )

    # --- data -----------------------------------------------------------------------------

    def _table(self, spec: topology.Table) -> dynamodb.Table:
        def key(name: str) -> dynamodb.Attribute:
            return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)

        table = dynamodb.Table(
            self,
            f"Table{construct_name(spec.name)}",
            partition_key=key(spec.partition_key),
            sort_key=key(spec.sort_key) if spec.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            stream=dynamodb.StreamViewType[spec.stream] if spec.stream else None,
            time_to_live_attribute=spec.ttl_attribute,
            removal_policy=self.removal,
            deletion_protection=self.stage.retain_data,
        )
        for index in spec.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=key(index.partition_key),
                sort_key=key(index.sort_key) if index.sort_key else None,
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table

    def _secret(self, spec: topology.Secret) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            f"Secret{construct_name(spec.name)}",
            description=spec.description,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
            removal_policy=self.removal,
        )
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "Generated signing key with no external credential behind it; rotating it would "
            "invalidate every outstanding pagination cursor, and key rotation with a grace "
            "period for the previous key is not implemented yet.",
        )
        return secret

    # --- identity -------------------------------------------------------------------------

    def _user_pool(
        self, spec: topology.UserPool
    ) -> tuple[cognito.UserPool, cognito.UserPoolClient]:
        plus = self.stage.threat_protection
        pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"catalog-{self.stage.name}-{spec.name}",
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True, username=False),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            user_verification=cognito.UserVerificationConfig(
                email_style=cognito.VerificationEmailStyle.CODE,
                email_subject="Your catalog confirmation code",
                email_body="Your catalog confirmation code is {####}. It expires in 24 hours.",
            ),
            # A changed email takes effect only once its code is confirmed: until then the
            # user keeps signing in (and receiving recovery codes) at the verified address.
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True),
                fullname=cognito.StandardAttribute(required=False, mutable=True),
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=PASSWORD_MIN_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            mfa=cognito.Mfa.OFF,
            feature_plan=cognito.FeaturePlan.PLUS if plus else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=(
                cognito.StandardThreatProtectionMode.FULL_FUNCTION if plus else None
            ),
            deletion_protection=self.stage.retain_data,
            removal_policy=self.removal,
        )
        acknowledge(
            pool,
            "AwsSolutions-COG2",
            "MFA is not required (nor offered) yet: shoppers and the catalog's staff sign in "
            "with email and a 12+ character password only. The auth function does not answer "
            "MFA challenges, so TOTP for editors and admins needs that work first; until then "
            "admin accounts are few and their sign-ins are throttled per method.",
        )
        if not plus:
            acknowledge(
                pool,
                "AwsSolutions-COG8",
                f"The {self.stage.name} stage uses the Essentials feature plan to avoid the "
                "Plus plan's per-user cost where nobody real signs in; threat protection "
                "(compromised credentials, adaptive authentication) is enforced in prod, "
                "whose stage settings turn the Plus plan on.",
            )
        # Groups are the roles; a lower precedence wins when a user is in several, so the
        # strongest role (last in the topology's weakest-first order) gets the lowest.
        for rank, group in enumerate(spec.groups):
            cognito.CfnUserPoolGroup(
                self,
                f"UserPoolGroup{construct_name(group)}",
                user_pool_id=pool.user_pool_id,
                group_name=group,
                precedence=len(spec.groups) - rank,
                description=f"catalog role {group}"
                + (" (every new user)" if group == spec.default_group else ""),
            )
        client = pool.add_client(
            "ApiClient",
            user_pool_client_name=f"catalog-{self.stage.name}-api",
            # The API's own endpoints sign users in; no hosted UI, so no OAuth flows either
            # (CDK would otherwise enable the code and implicit grants).
            disable_o_auth=True,
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            generate_secret=False,  # the caller is a browser or an app: it cannot keep one
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=ACCESS_TOKEN_VALIDITY,
            id_token_validity=ID_TOKEN_VALIDITY,
            refresh_token_validity=REFRESH_TOKEN_VALIDITY,
            # Sign-up writes email and name; nothing else is the client's to read or change.
            read_attributes=cognito.ClientAttributes().with_standard_attributes(
                email=True, email_verified=True, fullname=True
            ),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(
                email=True, fullname=True
            ),
        )
        return pool, client

    def _user_pool_refs(self) -> topology.UserPoolRefs:
        stack = Stack.of(self)
        pool_id = self.user_pool.user_pool_id
        # The `iss` claim of the pool's tokens; url_suffix keeps it right in aws-cn too.
        issuer = f"https://cognito-idp.{stack.region}.{stack.url_suffix}/{pool_id}"
        return topology.UserPoolRefs(
            pool_id=pool_id,
            client_id=self.user_pool_client.user_pool_client_id,
            issuer=issuer,
            jwks_url=f"{issuer}/.well-known/jwks.json",
        )

    def _grant_user_pool(self, role: iam.Role, spec: topology.Function) -> None:
        if spec.user_pool != "admin":
            return  # "verify" checks tokens against the public JWKS: no IAM involved
        actions = list(COGNITO_ADMIN_ACTIONS)
        if self.stage.auto_confirm_users:
            actions += COGNITO_AUTO_CONFIRM_ACTIONS
        role.add_to_policy(
            iam.PolicyStatement(actions=actions, resources=[self.user_pool.user_pool_arn])
        )

    # --- compute --------------------------------------------------------------------------

    def _core_layer(self) -> lambda_.LayerVersion:
        folder = LAYER_ASSETS / "core"
        if not (folder / "python" / "catalog").is_dir():
            raise SystemExit(f"{folder} is missing: run `make build` (scripts/build_layers.py)")
        return lambda_.LayerVersion(
            self,
            "CoreLayer",
            code=lambda_.Code.from_asset(str(folder)),
            compatible_runtimes=[PYTHON],
            compatible_architectures=[ARCHITECTURE],
            description="catalog package and its third-party runtime dependencies",
        )

    def _function(self, spec: topology.Function) -> lambda_.Function:
        construct_id = f"Fn{construct_name(spec.name)}"
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            retention=self.log_retention,
            removal_policy=self.removal,
        )
        # An own role instead of AWSLambdaBasicExecutionRole: that managed policy lets the
        # function create log groups and write to any of them; this one writes to its own.
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"catalog {self.stage.name}: the {spec.name} function",
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            construct_id,
            runtime=PYTHON,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=lambda_.Code.from_asset(str(ROOT / spec.code), exclude=["__pycache__", "*.pyc"]),
            layers=[self.layers[name] for name in spec.layers],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            role=role,
            environment=topology.function_environment(
                spec,
                stage=self.stage.name,
                table_names={name: table.table_name for name, table in self.tables.items()},
                secret_ids={name: secret.secret_arn for name, secret in self.secrets.items()},
                user_pool=self._user_pool_refs(),
                settings=self.stage.function_settings(),
                bucket_names={name: bucket.bucket_name for name, bucket in self.buckets.items()},
                topic_arns={name: topic.topic_arn for name, topic in self.topics.items()},
                queue_urls={name: queue.queue_url for name, queue in self.queues.items()},
                images_base_url=(
                    f"https://{self.images_cdn.distribution_domain_name}"
                    if self.images_cdn
                    else None
                ),
            ),
            description=f"catalog {self.stage.name}: {spec.name}",
        )
        Tags.of(function).add(FUNCTION_TAG, spec.name)
        for table_name, access in spec.tables.items():
            self._grant_table(role, topology.TABLES[table_name], access)
        for secret_name in spec.secrets:
            self.secrets[secret_name].grant_read(role)
        self._grant_user_pool(role, spec)
        self._grant_event_plumbing(role, spec)
        reads_stream = any(s.consumer == spec.name for s in topology.STREAMS)
        acknowledge(
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
        acknowledge(
            function,
            "AwsSolutions-L1",
            "Python 3.12 is the platform the shared layer is built for (scripts/build_layers.py "
            "pins manylinux2014_aarch64 / 3.12); moving runtime means rebuilding and retesting "
            "that layer, a deliberate change rather than a drift to the newest runtime.",
        )
        return function

    def _grant_table(self, role: iam.Role, spec: topology.Table, access: str) -> None:
        # Explicit actions rather than table.grant_read_data: that grant adds Scan and
        # GetRecords, which no function needs, and an `index/*` wildcard.
        table = self.tables[spec.name]
        actions = TABLE_READ_ACTIONS + (TABLE_WRITE_ACTIONS if access == "write" else ())
        resources = [table.table_arn]
        resources += [f"{table.table_arn}/index/{index.name}" for index in spec.indexes]
        role.add_to_policy(iam.PolicyStatement(actions=list(actions), resources=resources))

    # --- event plumbing -------------------------------------------------------------------

    def _event_plumbing(self) -> None:
        """Queues (each with a DLQ and its alarm), topics, subscriptions and buckets."""
        self.dlq_alarms: dict[str, cloudwatch.Alarm] = {}
        self.queues = {name: self._queue(spec) for name, spec in topology.QUEUES.items()}
        self.topics = {name: self._topic(spec) for name, spec in topology.TOPICS.items()}
        for subscription in topology.SUBSCRIPTIONS:
            policy = subscription.filter_policy
            self.topics[subscription.topic].add_subscription(
                sns_subscriptions.SqsSubscription(
                    self.queues[subscription.queue],
                    raw_message_delivery=True,
                    filter_policy=(
                        {
                            attribute: sns.SubscriptionFilter.string_filter(allowlist=values)
                            for attribute, values in policy.items()
                        }
                        if policy
                        else None
                    ),
                )
            )
        self.buckets = {name: self._bucket(spec) for name, spec in topology.BUCKETS.items()}

    def _queue(self, spec: topology.Queue) -> sqs.Queue:
        construct_id = f"Queue{construct_name(spec.name)}"
        dead_letters = sqs.Queue(
            self,
            f"{construct_id}Dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),  # SQS's longest: time to look and redrive
            removal_policy=self.removal,
        )
        queue = sqs.Queue(
            self,
            construct_id,
            # SSE-SQS rather than KMS: SNS and S3 can deliver to it without a key policy.
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(self.stage.visibility_timeout_s(spec)),
            retention_period=Duration.days(spec.retention_days),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=spec.max_receives, queue=dead_letters
            ),
            removal_policy=self.removal,
        )
        # Any message in a dead-letter queue is an event that did not get through: alarm.
        self.dlq_alarms[spec.name] = cloudwatch.Alarm(
            self,
            f"{construct_id}DlqAlarm",
            alarm_description=(
                f"catalog {self.stage.name}: messages in the dead-letter queue of {spec.name}"
            ),
            metric=dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if not any(source.queue == spec.name for source in topology.QUEUE_SOURCES):
            # Nobody consumes it (a stream's on-failure destination): its depth is the alarm.
            cloudwatch.Alarm(
                self,
                f"{construct_id}DepthAlarm",
                alarm_description=(
                    f"catalog {self.stage.name}: unconsumed messages in {spec.name}"
                ),
                metric=queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        return queue

    def _topic(self, spec: topology.Topic) -> sns.Topic:
        return sns.Topic(
            self,
            f"Topic{construct_name(spec.name)}",
            display_name=f"catalog {self.stage.name} {spec.name}",
            # The AWS-managed SNS key: encrypted at rest with no key policy to maintain.
            master_key=kms.Alias.from_alias_name(
                self, f"Topic{construct_name(spec.name)}Key", "alias/aws/sns"
            ),
            enforce_ssl=True,
        )

    def _bucket(self, spec: topology.Bucket) -> s3.Bucket:
        construct_id = f"Bucket{construct_name(spec.name)}"
        stack = Stack.of(self)
        # A fixed name, so the queues' policies can name the bucket without a dependency
        # cycle (the bucket's notification configuration needs those policies first).
        name = f"catalog-{self.stage.name}-{spec.name}-{stack.account}-{stack.region}"
        bucket = s3.Bucket(
            self,
            construct_id,
            bucket_name=name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=self.removal,
            lifecycle_rules=[
                s3.LifecycleRule(prefix=prefix, expiration=Duration.days(days))
                for prefix, days in spec.expire_prefixes.items()
            ],
        )
        acknowledge(
            bucket,
            "AwsSolutions-S1",
            "Server access logs would need a log bucket per stage; object-level activity is "
            "already recorded where it matters: uploads arrive through presigned requests the "
            "API issues (logged with their principal) and each creation becomes a queued event.",
        )
        if spec.notifications:
            # Plain CloudFormation notification configuration instead of
            # add_event_notification, which deploys a custom-resource Lambda function.
            bucket_arn = f"arn:{stack.partition}:s3:::{name}"
            policies = []
            for notification in spec.notifications:
                queue = self.queues[notification.queue]
                result = queue.add_to_resource_policy(
                    iam.PolicyStatement(
                        principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                        actions=["sqs:SendMessage"],
                        resources=[queue.queue_arn],
                        conditions={
                            "ArnEquals": {"aws:SourceArn": bucket_arn},
                            "StringEquals": {"aws:SourceAccount": stack.account},
                        },
                    )
                )
                if result.policy_dependable is not None:
                    policies.append(result.policy_dependable)
            cfn_bucket = bucket.node.default_child
            assert isinstance(cfn_bucket, s3.CfnBucket)
            cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
                queue_configurations=[
                    s3.CfnBucket.QueueConfigurationProperty(
                        event="s3:ObjectCreated:*",
                        queue=self.queues[notification.queue].queue_arn,
                        filter=s3.CfnBucket.NotificationFilterProperty(
                            s3_key=s3.CfnBucket.S3KeyFilterProperty(
                                rules=[
                                    s3.CfnBucket.FilterRuleProperty(
                                        name="prefix", value=notification.prefix
                                    )
                                ]
                            )
                        ),
                    )
                    for notification in spec.notifications
                ]
            )
            for policy in policies:
                bucket.node.add_dependency(policy)
        return bucket

    def _grant_event_plumbing(self, role: iam.Role, spec: topology.Function) -> None:
        for topic_name in spec.topics:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["sns:Publish"], resources=[self.topics[topic_name].topic_arn]
                )
            )
        for queue_name in spec.queues:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=list(QUEUE_SEND_ACTIONS),
                    resources=[self.queues[queue_name].queue_arn],
                )
            )
        if spec.sends_email:
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
        for bucket_name, access in spec.buckets.items():
            bucket = self.buckets[bucket_name]
            actions = BUCKET_READ_ACTIONS + (BUCKET_WRITE_ACTIONS if access == "write" else ())
            role.add_to_policy(
                iam.PolicyStatement(actions=list(actions), resources=[bucket.arn_for_objects("*")])
            )
            cfn_bucket = bucket.node.default_child
            assert isinstance(cfn_bucket, s3.CfnBucket)
            logical_id = self.resolve(cfn_bucket.logical_id)
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/*]",
                f"Object-level {access} access to the {bucket_name} bucket, which the topology "
                "grants this function: object keys are made per upload, so they cannot be "
                "listed in the policy; the actions are listed one by one.",
            )

    def _event_sources(self) -> None:
        """SQS and stream event source mappings, as the local event pump plays them."""
        for source in topology.QUEUE_SOURCES:
            self.functions[source.consumer].add_event_source(
                event_sources.SqsEventSource(
                    self.queues[source.queue],
                    batch_size=source.batch_size,
                    max_batching_window=(
                        Duration.seconds(source.max_batching_window_s)
                        if source.max_batching_window_s
                        else None
                    ),
                    report_batch_item_failures=True,
                )
            )
        for stream in topology.STREAMS:
            self.functions[stream.consumer].add_event_source(
                event_sources.DynamoEventSource(
                    self.tables[stream.table],
                    starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                    batch_size=stream.batch_size,
                    bisect_batch_on_error=stream.bisect_on_error,
                    retry_attempts=stream.max_retries,
                    report_batch_item_failures=True,
                    on_failure=(
                        event_sources.SqsDlq(self.queues[stream.on_failure])
                        if stream.on_failure
                        else None
                    ),
                )
            )

    # --- product images -------------------------------------------------------------------

    def _images_layer(self) -> lambda_.LayerVersion:
        folder = LAYER_ASSETS / "images"
        if not (folder / "python" / "PIL").is_dir():
            raise SystemExit(f"{folder} is missing: run `make build` (scripts/build_layers.py)")
        return lambda_.LayerVersion(
            self,
            "ImagesLayer",
            code=lambda_.Code.from_asset(str(folder)),
            compatible_runtimes=[PYTHON],
            compatible_architectures=[ARCHITECTURE],
            description="Pillow, for the image processor alone",
        )

    def _media_delivery(self) -> cloudfront.Distribution:
        """Browser uploads to the media bucket (CORS for POST) and CloudFront in front of
        its `images/` renditions, reading through origin access control: the bucket stays
        private, and the distribution may read `images/*` only, never `uploads/*`."""
        bucket = self.buckets[topology.MEDIA_BUCKET]
        bucket.add_cors_rule(
            allowed_methods=[s3.HttpMethods.POST],
            allowed_origins=list(self.stage.cors_allow_origins),
            allowed_headers=["*"],
            max_age=3000,
        )
        # The origin reads an imported view of the bucket, so that CDK does not grant the
        # distribution every object (`/*`); the grant below names the served prefix only.
        origin_bucket = s3.Bucket.from_bucket_attributes(
            self,
            "MediaBucketOrigin",
            bucket_arn=bucket.bucket_arn,
            bucket_regional_domain_name=bucket.bucket_regional_domain_name,
        )
        distribution = cloudfront.Distribution(
            self,
            "ImagesCdn",
            comment=f"catalog {self.stage.name}: product image renditions",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(origin_bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
                compress=False,  # WebP is compressed already
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
        )
        # The bucket is imported on purpose (above): its policy gets the grant right below.
        Annotations.of(distribution).acknowledge_warning(
            "@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac",
            "the statement granting the distribution images/* is added to the bucket's policy",
        )
        stack = Stack.of(self)
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudFrontReadsRenditionsOnly",
                principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(f"{topology.PUBLIC_MEDIA_PREFIX}*")],
                conditions={
                    "StringEquals": {
                        "AWS:SourceArn": f"arn:{stack.partition}:cloudfront::{stack.account}:"
                        f"distribution/{distribution.distribution_id}"
                    }
                },
            )
        )
        acknowledge(
            distribution,
            "AwsSolutions-CFR1",
            "Product images are public catalog content meant for shoppers everywhere; no "
            "country is to be excluded.",
        )
        acknowledge(
            distribution,
            "AwsSolutions-CFR2",
            "The distribution serves static, public WebP files from S3 (GET/HEAD only, no "
            "origin compute to protect); the WAF web ACL planned for the API is not built yet.",
        )
        acknowledge(
            distribution,
            "AwsSolutions-CFR3",
            "Standard access logs need an ACL-enabled log bucket per stage; requests and "
            "errors are visible in the distribution's CloudWatch metrics meanwhile.",
        )
        acknowledge(
            distribution,
            "AwsSolutions-CFR4",
            "The default *.cloudfront.net certificate lets CloudFront choose the viewer TLS "
            "policy (TLSv1 allowed); a custom domain with its ACM certificate, where "
            "TLSv1.2_2021 is set, comes with the shop's domain.",
        )
        CfnOutput(
            self,
            "ImagesUrl",
            value=f"https://{distribution.distribution_domain_name}",
            description="Where product image renditions are served",
        )
        return distribution

    # --- API ------------------------------------------------------------------------------

    def _api(self) -> apigateway.RestApi:
        access_logs = logs.LogGroup(
            self, "ApiAccessLogs", retention=self.log_retention, removal_policy=self.removal
        )
        api = apigateway.RestApi(
            self,
            "Api",
            rest_api_name=f"catalog-{self.stage.name}",
            description=f"Product catalog API ({self.stage.name})",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            binary_media_types=list(topology.BINARY_MEDIA_TYPES),
            # Execution logging needs the account-wide API Gateway CloudWatch role, a
            # singleton no single stage's stack should own; access logs + X-Ray cover us.
            cloud_watch_role=False,
            deploy_options=apigateway.StageOptions(
                stage_name=self.stage.name,
                throttling_rate_limit=self.stage.throttle_rate,
                throttling_burst_limit=self.stage.throttle_burst,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.custom(ACCESS_LOG_FORMAT),
                tracing_enabled=True,
                metrics_enabled=True,
                method_options=_method_throttles(),
            ),
        )
        acknowledge(
            api.deployment_stage,
            "AwsSolutions-APIG6",
            "Execution logging requires the account-level API Gateway CloudWatch role, which "
            "this per-stage stack deliberately does not own; every request is still recorded "
            "by JSON access logs (with integration errors) and X-Ray traces.",
        )
        acknowledge(
            api,
            "AwsSolutions-APIG2",
            "Requests are validated once, in the functions (pydantic models, problem+json "
            "400/422 from one error path); an API Gateway validator would duplicate the "
            "schemas and answer in a different error format.",
        )
        acknowledge(
            api.deployment_stage,
            "AwsSolutions-APIG3",
            "The design guide puts a WAF web ACL in front of the API, but it is not built yet "
            "(a later issue); until then the stage's throttling limits bound abuse.",
        )

        integrations = {
            name: apigateway.LambdaIntegration(
                function,
                proxy=True,
                allow_test_invoke=False,  # halves the Lambda permissions; console tests unused
            )
            for name, function in self.functions.items()
        }
        authorizer = apigateway.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            cognito_user_pools=[self.user_pool],
            authorizer_name=f"catalog-{self.stage.name}-users",
        )
        for route in topology.ROUTES:
            resource = api.root.resource_for_path(route.path)
            if route.access.public:
                method = resource.add_method(route.method, integrations[route.function])
                _acknowledge_public(method, _why_public(route))
                continue
            # The gateway checks the token is a valid, unexpired access token of the pool
            # (asking for the scope rejects id tokens); the function checks the role.
            resource.add_method(
                route.method,
                integrations[route.function],
                authorizer=authorizer,
                authorization_type=apigateway.AuthorizationType.COGNITO,
                authorization_scopes=[topology.USER_POOL.access_scope],
            )
        for path, owner in topology.paths().items():
            # Every other method on a known path goes to the owner, which answers 405 with
            # `Allow` and CORS preflight itself (no CDK default preflight, no authorizer).
            method = api.root.resource_for_path(path).add_method("ANY", integrations[owner])
            _acknowledge_public(
                method,
                f"ANY {path} only reaches the function's 405/CORS-preflight answers; every "
                "method that reads or changes data has its own method with its own auth.",
            )

        for response_type, problem in gateway_responses.GATEWAY_RESPONSES.items():
            api.add_gateway_response(
                f"Response{construct_name(response_type.lower())}",
                type=apigateway.ResponseType.of(response_type),
                status_code=str(problem.status),
                templates={"application/json": gateway_responses.body(response_type)},
                # API Gateway takes header values as static mapping expressions: quoted.
                # (401s also name the auth scheme: WWW-Authenticate, as the local gateway does.)
                response_headers={
                    name: f"'{value}'"
                    for name, value in gateway_responses.headers(response_type).items()
                },
            )
        return api

    # --- monitoring -----------------------------------------------------------------------

    def _monitoring(self) -> None:
        five_minutes = Duration.minutes(5)
        # No alarm actions yet: the notification topic comes with the change-events work.
        for name, function in self.functions.items():
            cloudwatch.Alarm(
                self,
                f"Fn{construct_name(name)}ErrorsAlarm",
                alarm_description=f"catalog {self.stage.name}: {name} function errors",
                metric=function.metric_errors(period=five_minutes, statistic="Sum"),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        cloudwatch.Alarm(
            self,
            "Api5xxAlarm",
            alarm_description=f"catalog {self.stage.name}: API answered 5XX",
            metric=self.api.metric_server_error(period=five_minutes, statistic="Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

        dashboard = cloudwatch.Dashboard(self, "Dashboard")
        api = self.api
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="API requests", left=[api.metric_count(statistic="Sum")]),
            cloudwatch.GraphWidget(
                title="API latency",
                left=[api.metric_latency(statistic=p) for p in ("p50", "p90", "p99")],
            ),
            cloudwatch.GraphWidget(
                title="API errors",
                left=[
                    api.metric_client_error(statistic="Sum"),
                    api.metric_server_error(statistic="Sum"),
                ],
            ),
        )
        functions = self.functions.items()
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Function errors",
                left=[f.metric_errors(statistic="Sum", label=n) for n, f in functions],
            ),
            cloudwatch.GraphWidget(
                title="Function duration p90",
                left=[f.metric_duration(statistic="p90", label=n) for n, f in functions],
            ),
            cloudwatch.GraphWidget(
                title="Function throttles",
                left=[f.metric_throttles(statistic="Sum", label=n) for n, f in functions],
            ),
        )


# One JSON object per request; no headers, so no Authorization value can reach the logs.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "ip": "$context.identity.sourceIp",
        "userAgent": "$context.identity.userAgent",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "path": "$context.path",
        "protocol": "$context.protocol",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integration.latency",
        "integrationStatus": "$context.integration.status",
        "integrationError": "$context.integration.error",
        "errorMessage": "$context.error.message",
        "errorType": "$context.error.responseType",
        "xrayTraceId": "$context.xrayTraceId",
        # Who called (the Cognito `sub`; empty on public routes): an id, not a credential.
        "principal": "$context.authorizer.claims.sub",
    }
)


def _method_throttles() -> dict[str, apigateway.MethodDeploymentOptions]:
    """Per-method limits, tighter than the stage's, for routes the topology throttles."""
    return {
        f"{route.path}/{route.method}": apigateway.MethodDeploymentOptions(
            throttling_rate_limit=route.throttle[0],
            throttling_burst_limit=route.throttle[1],
            # A method's settings replace the stage-wide ones: keep its metrics on.
            metrics_enabled=True,
        )
        for route in topology.ROUTES
        if route.throttle
    }


def _why_public(route: topology.Route) -> str:
    where = f"{route.method} {route.path}"
    if route.method in ("GET", "HEAD"):
        return f"{where} is a public read."
    if route.throttle:
        rate, burst = route.throttle
        return (
            f"{where} serves callers who hold no token yet (sign-up, confirmation, sign-in, "
            f"refresh, password reset), limited to {rate}/s (burst {burst}) on this method."
        )
    return f"{where} is public by the topology's access rule."


def _acknowledge_public(method: apigateway.Method, why: str) -> None:
    acknowledge(
        method,
        "AwsSolutions-APIG4",
        f"Deliberately unauthenticated: {why} Access rules come from catalog/http/routes.py.",
    )
    acknowledge(
        method,
        "AwsSolutions-COG4",
        f"Deliberately without a Cognito authorizer: {why}",
    )


def _retention(days: int) -> logs.RetentionDays:
    try:
        return RETENTION[days]
    except KeyError:
        raise ValueError(f"CloudWatch Logs has no {days}-day retention") from None
