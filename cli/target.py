"""Which catalog a command works on: the local stack of `make run` (the default), a moto or
DynamoDB endpoint, or a deployed stage; its choice becomes the environment the catalog
package reads (`TABLE_PRODUCTS`, `AWS_ENDPOINT_URL`), as a function's does."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated

import typer

from cli.errors import Refused

LOCAL = "local"
Stage = Annotated[
    str,
    typer.Option(
        "--stage",
        help="local (the stack `make run` serves), or a deployed stage (dev, prod): "
        "its products table is found in the stack Catalog-<stage>.",
    ),
]
Endpoint = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        help="DynamoDB endpoint; for local, default http://127.0.0.1:$AWS_PORT (4566).",
    ),
]
Table = Annotated[
    str | None, typer.Option("--table", help="The products table's name, if not the stage's.")
]


@dataclass(frozen=True)
class Target:
    stage: str
    endpoint: str | None
    table: str

    def describe(self) -> str:
        return f"{self.table} ({self.stage}{f', {self.endpoint}' if self.endpoint else ''})"


def local_table(logical: str = "products") -> str:
    from infra.local.provision import physical_name

    return physical_name(logical, LOCAL)


def stage_table(stage: str, logical: str = "products") -> str:
    """The physical name of a deployed stage's table (the topology's `logical`), from its
    stack."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from infra.app import stack_name
    from infra.stack.base import construct_name
    from infra.stages import STAGES

    restored = STAGES[stage].restored_table(logical)
    if restored is not None:  # the stack refers to it by name: it is no resource of the stack
        return restored.name

    prefix = f"Table{construct_name(logical)}"
    try:
        resources = boto3.client("cloudformation").describe_stack_resources(
            StackName=stack_name(stage)
        )["StackResources"]
    except ClientError as error:
        raise Refused(
            f"cannot read the stack {stack_name(stage)} ({error.response['Error']['Message']}):"
            " deploy it, or check --stage and your AWS credentials"
        ) from None
    except BotoCoreError as error:
        raise Refused(
            f"cannot reach AWS ({error}): check your AWS credentials and region"
        ) from None
    for resource in resources:
        if resource["ResourceType"] == "AWS::DynamoDB::Table" and resource[
            "LogicalResourceId"
        ].startswith(prefix):
            return str(resource["PhysicalResourceId"])
    raise Refused(f"the stack {stack_name(stage)} has no {logical} table: is it a catalog stack?")


def select(stage: str, endpoint: str | None, table: str | None) -> Target:
    """Point the environment at the chosen catalog (for this process) and say which it is."""
    from infra.stages import STAGES

    if stage not in STAGES:
        raise Refused(f"unknown stage {stage!r}: use one of {', '.join(STAGES)}")
    if stage == LOCAL:
        endpoint = endpoint or f"http://127.0.0.1:{os.environ.get('AWS_PORT', '4566')}"
        # moto takes any credentials; these keep real ones from being sent to it
        for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
            os.environ.setdefault(name, value)
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
    name = table or (local_table() if stage == LOCAL else stage_table(stage))
    os.environ["TABLE_PRODUCTS"] = name
    return Target(stage, endpoint, name)
