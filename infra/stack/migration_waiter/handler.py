"""Starts the migrations state machine on a deploy and tells CloudFormation how it ended.

The two handlers of the custom resource provider (aws-cdk-lib's Provider framework, built
in infra/stack/migrations.py): `on_event` starts an execution on Create and Update,
`is_complete` is then polled until the execution ends, and raises when it failed, timed
out or was stopped, which fails the deployment with the execution's one-line message.
Runs with the Lambda runtime's boto3 only (it is deploy machinery, not part of the catalog:
no layer).
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3

PHYSICAL_ID = "catalog-data-migrations"
STATE_MACHINE_VARIABLE = "STATE_MACHINE_ARN"


@cache
def _client(service: str) -> Any:
    return boto3.client(service)


def _rolling_back(stack_id: str) -> bool:
    """Whether CloudFormation is undoing a failed update of the stack (or its creation)."""
    (stack,) = _client("cloudformation").describe_stacks(StackName=stack_id)["Stacks"]
    return str(stack["StackStatus"]).endswith("ROLLBACK_IN_PROGRESS")


def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Create and Update start an execution; Delete (and a rollback's Update) start none.

    A rollback puts back the previous properties, but the functions still run the new code
    at that moment (CloudFormation rolls this resource back before the functions it
    depends on): migrating again would only repeat the failure and block the rollback.
    """
    answer: dict[str, Any] = {"PhysicalResourceId": PHYSICAL_ID}
    if event["RequestType"] == "Delete" or _rolling_back(event["StackId"]):
        return answer
    execution = _client("stepfunctions").start_execution(
        stateMachineArn=os.environ[STATE_MACHINE_VARIABLE],
        # CloudFormation's request id: a retried request starts no second execution.
        name=event["RequestId"],
        input=json.dumps({}),
    )
    answer["Data"] = {"ExecutionArn": execution["executionArn"]}
    return answer


def is_complete(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Complete once the execution succeeded; raises (failing the deploy) when it did not."""
    execution_arn = (event.get("Data") or {}).get("ExecutionArn")
    if execution_arn is None:  # nothing was started: a Delete or a rollback
        return {"IsComplete": True}
    execution = _client("stepfunctions").describe_execution(executionArn=execution_arn)
    status = execution["status"]
    if status == "RUNNING":
        return {"IsComplete": False}
    if status == "SUCCEEDED":
        return {"IsComplete": True}
    raise MigrationsDidNotFinish(failure_message(execution))


class MigrationsDidNotFinish(Exception):
    """The deploy's migrations failed, timed out or were stopped."""


def failure_message(execution: dict[str, Any]) -> str:
    """One line for CloudFormation's status reason: what stopped the migrations, and why."""
    status, error, cause = execution["status"], execution.get("error"), execution.get("cause")
    if status == "TIMED_OUT":
        return (
            "data migrations did not finish within the state machine's timeout; the next "
            "deploy resumes them from their checkpoint (or run `python -m cli migrate up`)"
        )
    if status == "ABORTED":
        return "data migrations were stopped by hand (their state machine's execution aborted)"
    return f"data migrations failed: {error or status}: {_cause_text(cause)}"


def _cause_text(cause: str | None) -> str:
    """A Fail state's cause is the handler's message; a Lambda error's is JSON holding one."""
    if not cause:
        return "no cause given"
    try:
        parsed = json.loads(cause)
    except ValueError:
        return " ".join(cause.split())
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        return " ".join(str(parsed["errorMessage"]).split())
    return " ".join(cause.split())
