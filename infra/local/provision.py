"""Creates the topology's resources in moto server, as the CDK stack creates them in AWS."""

from __future__ import annotations

import secrets as random_secrets
from typing import Any

import boto3

from infra import topology


def physical_name(logical: str, stage: str) -> str:
    return f"catalog-{stage}-{logical}"


def _key_schema(partition: str, sort: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition, "KeyType": "HASH"}]
    if sort:
        schema.append({"AttributeName": sort, "KeyType": "RANGE"})
    return schema


def table_definition(table: topology.Table, name: str) -> dict[str, Any]:
    """The CreateTable request for a topology table (on-demand, stream as declared)."""
    attributes = {table.partition_key, *(k for k in [table.sort_key] if k)}
    for index in table.indexes:
        attributes |= {index.partition_key, *(k for k in [index.sort_key] if k)}
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": _key_schema(table.partition_key, table.sort_key),
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)
        ],
    }
    if table.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.partition_key, index.sort_key),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in table.indexes
        ]
    if table.stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    return request


def provision(stage: str, endpoint_url: str, region: str) -> dict[str, dict[str, str]]:
    """Create tables and secrets; return logical -> physical names/ids per kind."""
    session = boto3.session.Session(region_name=region)
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    secretsmanager = session.client("secretsmanager", endpoint_url=endpoint_url)
    table_names: dict[str, str] = {}
    for table in topology.TABLES.values():
        name = physical_name(table.name, stage)
        dynamodb.create_table(**table_definition(table, name))
        if table.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )
        table_names[table.name] = name
    secret_ids: dict[str, str] = {}
    for secret in topology.SECRETS.values():
        name = physical_name(secret.name, stage)
        created = secretsmanager.create_secret(
            Name=name,
            Description=secret.description,
            SecretString=random_secrets.token_urlsafe(48),
        )
        secret_ids[secret.name] = created["ARN"]
    return {"tables": table_names, "secrets": secret_ids}
