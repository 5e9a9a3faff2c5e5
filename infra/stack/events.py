"""The event plumbing: queues with dead-letter queues, topics, buckets, event source mappings."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import (
    Duration,
    Stack,
    aws_dynamodb as dynamodb,
    aws_iam as iam,
    aws_kms as kms,
    aws_lambda as lambda_,
    aws_lambda_event_sources as event_sources,
    aws_s3 as s3,
    aws_sns as sns,
    aws_sns_subscriptions as sns_subscriptions,
    aws_sqs as sqs,
)
from constructs import Construct

from infra import topology
from infra.stack import base
from infra.stack.base import Concern, construct_name
from infra.stages import Stage


class Events(Concern):
    """Exposes `queues`, `dead_letter_queues`, `topics` and `buckets` by topology name;
    needs nothing at first, then the functions and tables for `add_event_sources` (the
    functions' environment names the queues, so they come first). The queues' alarms (depth,
    age of the oldest message, dead letters) are the monitoring's (infra/stack/monitoring.py)."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage) -> None:
        super().__init__(scope, construct_id, stage=stage)
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        self.queues = {name: self._build_queue(spec) for name, spec in topology.QUEUES.items()}
        self.topics = {name: self._build_topic(spec) for name, spec in topology.TOPICS.items()}
        for subscription in topology.SUBSCRIPTIONS:
            self._build_subscription(subscription)
        self.buckets = {name: self._build_bucket(spec) for name, spec in topology.BUCKETS.items()}

    def _build_queue(self, spec: topology.Queue) -> sqs.Queue:
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
        self.dead_letter_queues[spec.name] = dead_letters
        return queue

    def _build_topic(self, spec: topology.Topic) -> sns.Topic:
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

    def _build_subscription(self, subscription: topology.Subscription) -> None:
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

    def _build_bucket(self, spec: topology.Bucket) -> s3.Bucket:
        stack = Stack.of(self)
        # A fixed name, so the queues' policies can name the bucket without a dependency
        # cycle (the bucket's notification configuration needs those policies first).
        name = f"catalog-{self.stage.name}-{spec.name}-{stack.account}-{stack.region}"
        bucket = s3.Bucket(
            self,
            f"Bucket{construct_name(spec.name)}",
            bucket_name=name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=self.removal,
            lifecycle_rules=[
                s3.LifecycleRule(
                    prefix=prefix,
                    expiration=Duration.days(days),
                    abort_incomplete_multipart_upload_after=Duration.days(
                        topology.ABORT_UPLOADS_AFTER_DAYS
                    ),
                )
                for prefix, days in spec.expire_prefixes.items()
            ],
        )
        if spec.browser_uploads:
            bucket.add_cors_rule(
                allowed_methods=[s3.HttpMethods(m) for m in topology.BROWSER_UPLOAD_METHODS],
                allowed_origins=list(self.stage.cors_allow_origins),
                allowed_headers=["*"],
                max_age=topology.BROWSER_UPLOAD_MAX_AGE_S,
            )
        base.acknowledge(
            bucket,
            "AwsSolutions-S1",
            "Server access logs would need a log bucket per stage; object-level activity is "
            "already recorded where it matters: uploads arrive through presigned requests the "
            "API issues (logged with their principal) and each creation becomes a queued event.",
        )
        if spec.notifications:
            self._build_notifications(bucket, spec, f"arn:{stack.partition}:s3:::{name}")
        return bucket

    def _build_notifications(self, bucket: s3.Bucket, spec: topology.Bucket, arn: str) -> None:
        # Plain CloudFormation notification configuration instead of add_event_notification,
        # which deploys a custom-resource Lambda function.
        stack = Stack.of(self)
        policies = []
        for notification in spec.notifications:
            queue = self.queues[notification.queue]
            result = queue.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                    actions=["sqs:SendMessage"],
                    resources=[queue.queue_arn],
                    conditions={
                        "ArnEquals": {"aws:SourceArn": arn},
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

    def add_event_sources(
        self,
        functions: Mapping[str, lambda_.Function],
        tables: Mapping[str, dynamodb.ITable],
    ) -> None:
        """SQS and stream event source mappings, as the local event pump plays them."""
        for source in topology.QUEUE_SOURCES:
            functions[source.consumer].add_event_source(
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
            functions[stream.consumer].add_event_source(
                event_sources.DynamoEventSource(
                    tables[stream.table],
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
