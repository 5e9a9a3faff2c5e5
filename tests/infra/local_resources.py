"""What the local runner provisions, read back from moto server as plain descriptions.

The parity tests compare these with the same descriptions read from the synthesized
template. Each description names resources by their topology names, so the two sides
meet whatever the physical names (CDK tokens in the cloud, `catalog-local-*` here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infra import topology
from infra.local.provision import (
    provision,
    provision_events,
    provision_media_delivery,
    provision_user_pool,
)
from infra.local.pump import EventPump, QueueWorker, StreamWorker
from infra.local.system import local_environment

STAGE = "local"
REGION = "us-east-1"

# moto keeps its state per process: a ThreadedMotoServer started in this process would
# share it with the `local_system` fixture (which provisions the same `catalog-local-*`
# names) whenever both land in one test process. In a child process it is a server of its
# own; it prints where it listens, and ends when its stdin closes.
_SERVER = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print("%s:%d" % server.get_host_and_port(), flush=True)
sys.stdin.read()
server.stop()
"""

# As infra/local/system.py sets them (boto3 needs some credentials; moto takes any).
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server of its own, in a child process; yields its endpoint URL."""
    child = subprocess.Popen(
        [sys.executable, "-c", _SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        address = child.stdout.readline().strip()
        if not address:
            raise RuntimeError(f"moto server did not start (exit code {child.wait()})")
        yield f"http://{address}"
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@dataclass
class LocalResources:
    """The topology provisioned by the local runner's functions, and readers over it."""

    url: str
    names: dict[str, dict[str, str]]
    user_pool: topology.UserPoolRefs

    @classmethod
    def provision(cls, url: str) -> LocalResources:
        """Provision as infra/local/system.py does (the same calls, in the same order)."""
        for name, value in FAKE_CREDENTIALS.items():
            os.environ.setdefault(name, value)
        names = provision(STAGE, url, REGION)
        names.update(provision_events(STAGE, url, REGION))
        user_pool, _ = provision_user_pool(STAGE, url, REGION)
        provision_media_delivery(names["buckets"][topology.MEDIA_BUCKET], url, REGION)
        return cls(url, names, user_pool)

    def client(self, service: str) -> Any:
        return boto3.session.Session(region_name=REGION).client(service, endpoint_url=self.url)

    def _queue_name(self, arn: str) -> str:
        return {a: n for n, a in self.names["queue_arns"].items()}[arn]

    def tables(self) -> dict[str, dict[str, Any]]:
        dynamodb = self.client("dynamodb")
        described = {}
        for name, physical in self.names["tables"].items():
            table = dynamodb.describe_table(TableName=physical)["Table"]
            ttl = dynamodb.describe_time_to_live(TableName=physical)["TimeToLiveDescription"]
            stream = table.get("StreamSpecification", {})
            described[name] = {
                **key_description(table),
                "stream": stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
                "ttl": ttl.get("AttributeName") if ttl["TimeToLiveStatus"] == "ENABLED" else None,
            }
        return described

    def queue_attributes(self) -> dict[str, dict[str, str]]:
        sqs = self.client("sqs")
        return {
            name: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            for name, url in self.names["queues"].items()
        }

    def redrives(self) -> dict[str, dict[str, Any]]:
        described: dict[str, dict[str, Any]] = {}
        for name, attributes in self.queue_attributes().items():
            redrive = json.loads(attributes.get("RedrivePolicy", "null"))
            described[name] = {
                "dead_letter_queue": (
                    self._queue_name(redrive["deadLetterTargetArn"]) if redrive else None
                ),
                "max_receives": redrive["maxReceiveCount"] if redrive else None,
                "retention_s": int(attributes["MessageRetentionPeriod"]),
            }
        return described

    def subscriptions(self) -> set[tuple[str, str, bool, str | None]]:
        """(topic, queue, raw delivery, filter policy as sorted JSON) per subscription."""
        sns = self.client("sns")
        found = set()
        for topic, arn in self.names["topics"].items():
            for listed in sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]:
                attributes = sns.get_subscription_attributes(
                    SubscriptionArn=listed["SubscriptionArn"]
                )["Attributes"]
                policy = attributes.get("FilterPolicy")
                found.add(
                    (
                        topic,
                        self._queue_name(attributes["Endpoint"]),
                        attributes.get("RawMessageDelivery") == "true",
                        canonical_json(json.loads(policy)) if policy else None,
                    )
                )
        return found

    def bucket_notifications(self) -> dict[str, set[tuple[str, str, str]]]:
        """(event, key prefix, queue) per notification, by bucket."""
        s3 = self.client("s3")
        described = {}
        for name, physical in self.names["buckets"].items():
            configuration = s3.get_bucket_notification_configuration(Bucket=physical)
            described[name] = {
                (event, rule["Value"], self._queue_name(queue["QueueArn"]))
                for queue in configuration.get("QueueConfigurations", [])
                for event in queue["Events"]
                for rule in queue["Filter"]["Key"]["FilterRules"]
                if rule["Name"] == "prefix"
            }
        return described

    def bucket_lifecycles(self) -> dict[str, set[tuple[str, int, str]]]:
        """(key prefix, expiration days, status) per lifecycle rule, by bucket."""
        s3 = self.client("s3")
        described: dict[str, set[tuple[str, int, str]]] = {}
        for name, physical in self.names["buckets"].items():
            try:
                rules = s3.get_bucket_lifecycle_configuration(Bucket=physical)["Rules"]
            except ClientError as error:
                if error.response["Error"]["Code"] != "NoSuchLifecycleConfiguration":
                    raise
                rules = []
            described[name] = {
                (
                    rule.get("Filter", {}).get("Prefix", rule.get("Prefix", "")),
                    rule["Expiration"]["Days"],
                    rule["Status"],
                )
                for rule in rules
            }
        return described

    def bucket_cors(self, bucket: str) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = self.client("s3").get_bucket_cors(
            Bucket=self.names["buckets"][bucket]
        )["CORSRules"]
        return rules

    def user_pool_settings(self) -> dict[str, Any]:
        cognito = self.client("cognito-idp")
        pool_id = self.user_pool.pool_id
        pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
        groups = cognito.list_groups(UserPoolId=pool_id)["Groups"]
        return user_pool_description(pool, {g["GroupName"]: g["Precedence"] for g in groups})

    def app_client_settings(self) -> dict[str, Any]:
        client = self.client("cognito-idp").describe_user_pool_client(
            UserPoolId=self.user_pool.pool_id, ClientId=self.user_pool.client_id
        )["UserPoolClient"]
        return app_client_description(client, generates_secret="ClientSecret" in client)

    def environment_names(self) -> dict[str, set[str]]:
        """Each function's environment variable names, as the local runner sets them."""
        media = self.names["buckets"][topology.MEDIA_BUCKET]
        images_base_url = f"{self.url}/{media}"  # as LocalSystem.images_base_url
        return {
            name: set(local_environment(spec, STAGE, self.names, self.user_pool, images_base_url))
            for name, spec in topology.FUNCTIONS.items()
        }


def pump_settings(pump: EventPump) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(kind, source, consumer) -> the settings each local event pump worker plays."""
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for worker in pump.workers:
        if isinstance(worker, QueueWorker):
            queue = worker.source
            found[("queue", queue.queue, queue.consumer)] = {
                "batch_size": queue.batch_size,
                "batching_window_s": queue.max_batching_window_s,
            }
        elif isinstance(worker, StreamWorker):
            stream = worker.source
            found[("stream", stream.table, stream.consumer)] = {
                "batch_size": stream.batch_size,
                "bisect_on_error": stream.bisect_on_error,
                "max_retries": stream.max_retries,
                "on_failure": stream.on_failure,
            }
    return found


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def key_description(table: dict[str, Any]) -> dict[str, Any]:
    """Key schema, attribute types and indexes of a CreateTable/DescribeTable-shaped table
    (the template's AWS::DynamoDB::Table properties have the same shape)."""

    def keys(schema: list[dict[str, str]]) -> tuple[tuple[str, str], ...]:
        return tuple((k["AttributeName"], k["KeyType"]) for k in schema)

    return {
        "keys": keys(table["KeySchema"]),
        "attributes": {
            a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]
        },
        "indexes": {
            index["IndexName"]: {
                "keys": keys(index["KeySchema"]),
                "projection": index["Projection"]["ProjectionType"],
            }
            for index in table.get("GlobalSecondaryIndexes", [])
        },
    }


def user_pool_description(pool: dict[str, Any], precedences: dict[str, int]) -> dict[str, Any]:
    """What sign-in rests on, from a CreateUserPool/DescribeUserPool-shaped pool (the
    template's AWS::Cognito::UserPool properties have the same shape)."""
    return {
        "username_attributes": pool.get("UsernameAttributes"),
        "auto_verified_attributes": pool.get("AutoVerifiedAttributes"),
        "password_policy": pool["Policies"]["PasswordPolicy"],
        "account_recovery": pool.get("AccountRecoverySetting"),
        "group_precedences": precedences,
    }


# Cognito's units for a token validity given without TokenValidityUnits.
_DEFAULT_UNITS = {"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"}
_MINUTES = {"minutes": 1, "hours": 60, "days": 24 * 60}


def app_client_description(client: dict[str, Any], *, generates_secret: bool) -> dict[str, Any]:
    """How the API's app client signs users in, from a DescribeUserPoolClient-shaped client
    (the template's AWS::Cognito::UserPoolClient properties have the same shape)."""
    units = {**_DEFAULT_UNITS, **client.get("TokenValidityUnits", {})}
    return {
        "auth_flows": sorted(client["ExplicitAuthFlows"]),
        "generates_secret": generates_secret,
        "prevent_user_existence_errors": client.get("PreventUserExistenceErrors"),
        "token_revocation": client.get("EnableTokenRevocation"),
        "read_attributes": sorted(client.get("ReadAttributes", [])),
        "write_attributes": sorted(client.get("WriteAttributes", [])),
        "validity_minutes": {
            token: client.get(f"{token}Validity") * _MINUTES[units[token]]
            if client.get(f"{token}Validity") is not None
            else None
            for token in _DEFAULT_UNITS
        },
    }
