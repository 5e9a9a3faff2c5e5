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


def provision_user_pool(
    stage: str, endpoint_url: str, region: str
) -> tuple[topology.UserPoolRefs, str]:
    """The topology's user pool, its groups and the API's app client, as the stack declares
    them. Returns the refs functions get, and a second app client's id (another app)."""
    cognito = boto3.session.Session(region_name=region).client(
        "cognito-idp", endpoint_url=endpoint_url
    )
    pool = cognito.create_user_pool(
        PoolName=physical_name(topology.USER_POOL.name, stage),
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
    )["UserPool"]
    for precedence, group in enumerate(reversed(topology.USER_POOL.groups)):
        cognito.create_group(UserPoolId=pool["Id"], GroupName=group, Precedence=precedence)
    clients = [
        cognito.create_user_pool_client(
            UserPoolId=pool["Id"],
            ClientName=name,
            GenerateSecret=False,
            ExplicitAuthFlows=[
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_USER_SRP_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ],
            PreventUserExistenceErrors="ENABLED",
        )["UserPoolClient"]["ClientId"]
        for name in ("api", "other-app")
    ]
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool['Id']}"
    refs = topology.UserPoolRefs(
        pool_id=pool["Id"],
        client_id=clients[0],
        issuer=issuer,
        jwks_url=f"{endpoint_url}/{pool['Id']}/.well-known/jwks.json",
    )
    return refs, clients[1]


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
