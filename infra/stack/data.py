"""The catalog's data: the topology's DynamoDB tables and its generated secrets."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb, aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import topology
from infra.stack import base
from infra.stack.base import Concern, construct_name
from infra.stages import Stage


class Data(Concern):
    """Exposes `tables` and `secrets`, by topology name; needs nothing else of the stack.

    A table the stage has replaced with a restored one (`Stage.restored_tables`) is that
    table, referenced by name: the stack grants, streams and backs it up like the others,
    but neither creates nor deletes it."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage) -> None:
        super().__init__(scope, construct_id, stage=stage)
        self.tables = {name: self._build_table(spec) for name, spec in topology.TABLES.items()}
        self.secrets = {name: self._build_secret(spec) for name, spec in topology.SECRETS.items()}

    def _build_table(self, spec: topology.Table) -> dynamodb.ITable:
        restored = self.stage.restored_table(spec.name)
        if restored is not None:
            if bool(spec.stream) != bool(restored.stream_arn):
                raise SystemExit(
                    f"restored table {restored.name} (as {spec.name}): the topology gives "
                    f"{spec.name} {'a' if spec.stream else 'no'} stream, so its stream_arn "
                    "must be set only then (catalog restore prints the setting)"
                )
            return dynamodb.Table.from_table_attributes(
                self,
                f"Table{construct_name(spec.name)}",
                table_name=restored.name,
                table_stream_arn=restored.stream_arn,
                global_indexes=[index.name for index in spec.indexes],
            )

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

    def _build_secret(self, spec: topology.Secret) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            f"Secret{construct_name(spec.name)}",
            description=spec.description,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
            removal_policy=self.removal,
        )
        base.acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "Generated signing key with no external credential behind it; rotating it would "
            "invalidate every outstanding pagination cursor, and key rotation with a grace "
            "period for the previous key is not implemented yet.",
        )
        return secret
