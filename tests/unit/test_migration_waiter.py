"""The deploy's wait for the migrations: which requests start a run, and how each end of
the state machine's execution reaches CloudFormation (AWS replaced by recorders)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.stack.migration_waiter import handler as waiter

STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:migrations"
STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/Catalog-dev/1"


class StepFunctions:
    def __init__(self, execution: dict[str, Any] | None = None) -> None:
        self.started: list[dict[str, Any]] = []
        self.execution = execution or {"status": "RUNNING"}

    def start_execution(self, **kwargs: Any) -> dict[str, Any]:
        self.started.append(kwargs)
        return {"executionArn": f"{STATE_MACHINE}:{kwargs['name']}"}

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        return {"executionArn": executionArn, **self.execution}


class CloudFormation:
    def __init__(self, status: str) -> None:
        self.status = status

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        assert StackName == STACK
        return {"Stacks": [{"StackId": STACK, "StackStatus": self.status}]}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    clients: dict[str, Any] = {
        "stepfunctions": StepFunctions(),
        "cloudformation": CloudFormation("UPDATE_IN_PROGRESS"),
    }
    monkeypatch.setattr(waiter, "_client", lambda service: clients[service])
    monkeypatch.setenv(waiter.STATE_MACHINE_VARIABLE, STATE_MACHINE)
    return clients


def request(kind: str) -> dict[str, Any]:
    return {"RequestType": kind, "StackId": STACK, "RequestId": "req-1", "ResourceProperties": {}}


@pytest.mark.parametrize("kind", ["Create", "Update"])
def test_create_and_update_start_one_execution(aws: dict[str, Any], kind: str) -> None:
    # When CloudFormation creates or updates the resource
    answer = waiter.on_event(request(kind), None)
    # Then one execution starts, named by the request (a retried request starts no other)
    (started,) = aws["stepfunctions"].started
    assert started == {"stateMachineArn": STATE_MACHINE, "name": "req-1", "input": "{}"}
    assert answer == {
        "PhysicalResourceId": waiter.PHYSICAL_ID,
        "Data": {"ExecutionArn": f"{STATE_MACHINE}:req-1"},
    }


def test_delete_starts_nothing(aws: dict[str, Any]) -> None:
    answer = waiter.on_event(request("Delete"), None)
    assert aws["stepfunctions"].started == []
    assert answer == {"PhysicalResourceId": waiter.PHYSICAL_ID}
    assert waiter.is_complete({**request("Delete"), **answer}, None) == {"IsComplete": True}


@pytest.mark.parametrize("status", ["UPDATE_ROLLBACK_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"])
def test_a_rollback_starts_nothing(aws: dict[str, Any], status: str) -> None:
    # Given a deploy being rolled back (the functions still run the new code)
    aws["cloudformation"].status = status
    # When CloudFormation puts the previous properties back
    answer = waiter.on_event(request("Update"), None)
    # Then no migration runs, and the resource is complete at once
    assert aws["stepfunctions"].started == []
    assert waiter.is_complete({**request("Update"), **answer}, None) == {"IsComplete": True}


def started(aws: dict[str, Any], execution: dict[str, Any]) -> dict[str, Any]:
    answer = waiter.on_event(request("Update"), None)
    aws["stepfunctions"].execution = execution
    return {**request("Update"), **answer}


def test_a_running_execution_is_not_complete_and_a_succeeded_one_is(aws: dict[str, Any]) -> None:
    event = started(aws, {"status": "RUNNING"})
    assert waiter.is_complete(event, None) == {"IsComplete": False}
    aws["stepfunctions"].execution = {"status": "SUCCEEDED", "output": "{}"}
    assert waiter.is_complete(event, None) == {"IsComplete": True}


def test_a_failed_migration_fails_the_deploy_with_its_message(aws: dict[str, Any]) -> None:
    # Given an execution ended by the Fail state (the handler's error and one-line cause)
    event = started(
        aws,
        {
            "status": "FAILED",
            "error": "MigrationFailed",
            "cause": "migration 0002 failed on {'pk': 'PRODUCT#1'}: bad price",
        },
    )
    # Then is_complete raises that message (the provider reports it as the reason)
    with pytest.raises(waiter.MigrationsDidNotFinish) as raised:
        waiter.is_complete(event, None)
    assert str(raised.value) == (
        "data migrations failed: MigrationFailed: "
        "migration 0002 failed on {'pk': 'PRODUCT#1'}: bad price"
    )


def test_a_function_error_is_reported_by_its_message_not_its_trace(aws: dict[str, Any]) -> None:
    cause = {"errorMessage": "DynamoDB is down", "errorType": "RuntimeError", "stackTrace": []}
    event = started(aws, {"status": "FAILED", "error": "RuntimeError", "cause": json.dumps(cause)})
    with pytest.raises(waiter.MigrationsDidNotFinish, match=r"RuntimeError: DynamoDB is down$"):
        waiter.is_complete(event, None)


@pytest.mark.parametrize(
    ("status", "says"), [("TIMED_OUT", "did not finish"), ("ABORTED", "stopped by hand")]
)
def test_a_timed_out_or_aborted_execution_fails_the_deploy(
    aws: dict[str, Any], status: str, says: str
) -> None:
    event = started(aws, {"status": status})
    with pytest.raises(waiter.MigrationsDidNotFinish, match=says):
        waiter.is_complete(event, None)
