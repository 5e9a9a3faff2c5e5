"""Alarms that reach someone: the stage's ops topic, and every alarm of the stack routed to it.

`Alerting` owns the topic (encrypted with a key of its own: CloudWatch cannot publish to a
topic under the AWS-managed SNS key) and, when the stage names one, an email subscription.
The monitoring's alarms (cdk-monitoring-constructs) get the topic through the library's
action strategy. `route(stack)` runs last, once every construct has made its alarms, and
gives each other `cloudwatch.Alarm` in the stack (the WAF's, the migrations', a backup
job's: any construct's) the topic as alarm and OK action, so a new alarm anywhere is routed
without anyone remembering to.
"""

from __future__ import annotations

from aws_cdk import (
    Duration,
    Stack,
    aws_cloudwatch as cloudwatch,
    aws_cloudwatch_actions as actions,
    aws_iam as iam,
    aws_kms as kms,
    aws_sns as sns,
    aws_sns_subscriptions as subscriptions,
)
from constructs import Construct, IConstruct

from infra.stack.base import Concern
from infra.stages import Stage


class Alerting(Concern):
    """Exposes `topic` and `routed` (the alarms `route` gave actions)."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage) -> None:
        super().__init__(scope, construct_id, stage=stage)
        key = kms.Key(
            self,
            "OpsTopicKey",
            description=f"catalog {stage.name}: the ops alarm topic",
            enable_key_rotation=True,
            removal_policy=self.removal,
            pending_window=Duration.days(7),
        )
        key.grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
        )
        self.topic = sns.Topic(
            self,
            "OpsTopic",
            display_name=f"catalog {stage.name} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        if stage.ops_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(stage.ops_email))
        self.routed: list[cloudwatch.Alarm] = []

    def route(self, root: IConstruct) -> None:
        """Every alarm under `root` notifies the ops topic when it fires and when it clears;
        one that already has actions (the monitoring's) is left as it is."""
        action = actions.SnsAction(self.topic)
        stack = Stack.of(root)
        for construct in root.node.find_all():
            if isinstance(construct, cloudwatch.Alarm):
                cfn = construct.node.default_child
                assert isinstance(cfn, cloudwatch.CfnAlarm)
                if stack.resolve(cfn.alarm_actions) or stack.resolve(cfn.ok_actions):
                    continue
                construct.add_alarm_action(action)
                construct.add_ok_action(action)
                self.routed.append(construct)
