"""Creates the topology's resources in moto server, as the CDK stack creates them in AWS."""

from __future__ import annotations

import json
import secrets as random_secrets
from collections.abc import Iterable
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
    groups = topology.USER_POOL.groups
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
                "TemporaryPasswordValidityDays": 3,
            }
        },
        # Recovery codes go to the verified email only (never a phone), as in the stack.
        AccountRecoverySetting={"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
    )["UserPool"]
    # The stack's ranks: groups are weakest-first, and the strongest role gets 1 (a lower
    # precedence wins when a user is in several).
    for rank, group in enumerate(groups):
        cognito.create_group(UserPoolId=pool["Id"], GroupName=group, Precedence=len(groups) - rank)
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
            EnableTokenRevocation=True,
            AccessTokenValidity=60,
            IdTokenValidity=60,
            RefreshTokenValidity=30 * 24 * 60,
            TokenValidityUnits={
                "AccessToken": "minutes",
                "IdToken": "minutes",
                "RefreshToken": "minutes",
            },
            # Sign-up writes email and name; nothing else is the client's to read or change
            # (so id tokens carry these claims, as Cognito's do).
            ReadAttributes=["email", "email_verified", "name"],
            WriteAttributes=["email", "name"],
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


# --- event plumbing -----------------------------------------------------------------------

SECONDS_PER_DAY = 86400
MAX_RETENTION_S = 14 * SECONDS_PER_DAY  # SQS's maximum


def queue_attributes(queue: topology.Queue, visibility_timeout_s: int) -> dict[str, str]:
    """The CreateQueue attributes of a topology queue (its DLQ's ARN is added by the caller)."""
    return {
        "VisibilityTimeout": str(visibility_timeout_s),
        "MessageRetentionPeriod": str(min(queue.retention_days * SECONDS_PER_DAY, MAX_RETENTION_S)),
    }


def prefix_rule(prefix: str) -> dict[str, str]:
    return {"Name": "prefix", "Value": prefix}


def provision_events(
    stage: str,
    endpoint_url: str,
    region: str,
    *,
    queues: Iterable[topology.Queue] | None = None,
    topics: Iterable[topology.Topic] | None = None,
    subscriptions: Iterable[topology.Subscription] | None = None,
    buckets: Iterable[topology.Bucket] | None = None,
) -> dict[str, dict[str, str]]:
    """Queues (each with its DLQ and redrive policy), topics, subscriptions and buckets with
    their notifications, as the stack declares them (the topology's, unless given). Returns
    logical -> physical per kind: `queues` (URLs, `<name>-dlq` included), `queue_arns`,
    `topics` (ARNs), `buckets` (names)."""
    from infra.stages import stage as stage_config

    config = stage_config(stage)
    session = boto3.session.Session(region_name=region)
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    sns = session.client("sns", endpoint_url=endpoint_url)
    s3 = session.client("s3", endpoint_url=endpoint_url)
    queue_urls: dict[str, str] = {}
    queue_arns: dict[str, str] = {}

    def create_queue(logical: str, attributes: dict[str, str]) -> None:
        url = sqs.create_queue(QueueName=physical_name(logical, stage), Attributes=attributes)[
            "QueueUrl"
        ]
        queue_urls[logical] = url
        queue_arns[logical] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    for queue in topology.QUEUES.values() if queues is None else queues:
        create_queue(
            queue.dlq_name,
            {"MessageRetentionPeriod": str(MAX_RETENTION_S)},
        )
        attributes = queue_attributes(queue, config.visibility_timeout_s(queue))
        redrive = {"deadLetterTargetArn": queue_arns[queue.dlq_name]}
        attributes["RedrivePolicy"] = json.dumps({**redrive, "maxReceiveCount": queue.max_receives})
        create_queue(queue.name, attributes)

    topic_arns = {
        name: sns.create_topic(Name=physical_name(name, stage))["TopicArn"]
        for name in (topology.TOPICS if topics is None else {t.name: t for t in topics})
    }
    for subscription in topology.SUBSCRIPTIONS if subscriptions is None else subscriptions:
        attributes = {"RawMessageDelivery": "true"}
        if subscription.filter_policy is not None:
            attributes["FilterPolicy"] = json.dumps(subscription.filter_policy)
        sns.subscribe(
            TopicArn=topic_arns[subscription.topic],
            Protocol="sqs",
            Endpoint=queue_arns[subscription.queue],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )

    bucket_names: dict[str, str] = {}
    for bucket in topology.BUCKETS.values() if buckets is None else buckets:
        name = physical_name(bucket.name, stage)
        s3.create_bucket(Bucket=name)
        bucket_names[bucket.name] = name
        if bucket.notifications:
            s3.put_bucket_notification_configuration(
                Bucket=name,
                NotificationConfiguration={
                    "QueueConfigurations": [
                        {
                            "QueueArn": queue_arns[n.queue],
                            "Events": ["s3:ObjectCreated:*"],
                            "Filter": {"Key": {"FilterRules": [prefix_rule(n.prefix)]}},
                        }
                        for n in bucket.notifications
                    ]
                },
            )
        if bucket.browser_uploads:
            s3.put_bucket_cors(Bucket=name, CORSConfiguration=browser_upload_cors(stage))
        if bucket.expire_prefixes:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={
                    "Rules": [
                        {
                            "ID": f"expire-{prefix.strip('/').replace('/', '-') or 'all'}",
                            "Filter": {"Prefix": prefix},
                            "Status": "Enabled",
                            "Expiration": {"Days": days},
                            "AbortIncompleteMultipartUpload": {
                                "DaysAfterInitiation": topology.ABORT_UPLOADS_AFTER_DAYS
                            },
                        }
                        for prefix, days in bucket.expire_prefixes.items()
                    ]
                },
            )
    # The notification emails' sender, verified as SES requires (moto checks it too).
    session.client("ses", endpoint_url=endpoint_url).verify_email_identity(
        EmailAddress=config.email_sender
    )
    return {
        "queues": queue_urls,
        "queue_arns": queue_arns,
        "topics": topic_arns,
        "buckets": bucket_names,
    }


# --- product images -----------------------------------------------------------------------


def browser_upload_cors(stage: str) -> dict[str, Any]:
    """The CORS configuration of a bucket taking browser uploads, as the stack gives it."""
    from infra.stages import stage as stage_config

    return {
        "CORSRules": [
            {
                "AllowedMethods": list(topology.BROWSER_UPLOAD_METHODS),
                "AllowedOrigins": list(stage_config(stage).cors_allow_origins),
                "AllowedHeaders": ["*"],
                "MaxAgeSeconds": topology.BROWSER_UPLOAD_MAX_AGE_S,
            }
        ]
    }


def provision_media_delivery(bucket_name: str, endpoint_url: str, region: str) -> None:
    """What the stack adds to the media bucket for images: reads of `images/*` for the CDN.
    Locally moto server plays CloudFront, so the read grant goes to anyone, and to that
    prefix only (uploads/ stays private, as in the cloud)."""
    s3 = boto3.session.Session(region_name=region).client("s3", endpoint_url=endpoint_url)
    s3.put_bucket_policy(
        Bucket=bucket_name,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CdnReadsRenditionsOnly",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket_name}/{topology.PUBLIC_MEDIA_PREFIX}*",
                    }
                ],
            }
        ),
    )
