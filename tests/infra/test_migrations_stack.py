"""The deploy-time migration runner in the template: the state machine's loop, the custom
resource CloudFormation waits on (after every function), least privilege, the alarm."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match

from infra import topology
from infra.stack import migrations as runner

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def definition(dev: Any, state_machine: Any) -> dict[str, Any]:
    """The state machine's ASL, with the CloudFormation references left as placeholders."""
    logical_id = dev.stack.resolve(state_machine.node.default_child.logical_id)
    parts = dev.resources[logical_id]["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "REF" for p in parts)
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def test_the_state_machine_invokes_the_function_until_done_or_failed(dev: Any) -> None:
    # Given the migrations state machine's definition
    asl = definition(dev, dev.stack.migrations.state_machine)
    states = asl["States"]
    # Then it starts by invoking the migrations function, as the execution's runner
    migrate = states[asl["StartAt"]]
    assert migrate["Type"] == "Task"
    assert migrate["Parameters"] == {"runner.$": "States.Format('deploy:{}', $$.Execution.Name)"}
    assert migrate["ResultPath"] == "$.run"
    # And after each call: a failure ends it failed, done ends it, anything else invokes again
    choice = states[migrate["Next"]]
    assert choice["Type"] == "Choice"
    assert choice["Choices"][0] == {
        "Variable": "$.run.failed",
        "IsPresent": True,
        "Next": "MigrationFailed",
    }
    assert choice["Choices"][1]["Variable"] == "$.run.done"
    assert choice["Choices"][1]["BooleanEquals"] is True
    assert states[choice["Choices"][1]["Next"]]["Type"] == "Succeed"
    assert choice["Default"] == asl["StartAt"]
    # And the failure carries the handler's error name and one-line message
    assert states["MigrationFailed"] == {
        "Type": "Fail",
        "ErrorPath": "$.run.failed.error",
        "CausePath": "$.run.failed.cause",
    }
    # And it is bounded in time, below CloudFormation's hour for a custom resource
    assert asl["TimeoutSeconds"] == runner.STATE_MACHINE_TIMEOUT.to_seconds()
    assert asl["TimeoutSeconds"] < runner.PROVIDER_TIMEOUT.to_seconds() <= 3600


def test_only_the_lambda_service_s_own_errors_are_retried(dev: Any) -> None:
    migrate = definition(dev, dev.stack.migrations.state_machine)["States"]["Migrate"]
    (retry,) = migrate["Retry"]
    assert set(retry["ErrorEquals"]) == set(runner.LAMBDA_SERVICE_ERRORS)
    assert "States.ALL" not in retry["ErrorEquals"] and "Catch" not in migrate
    assert retry["MaxAttempts"] == 6 and retry["BackoffRate"] == 2


def test_the_state_machine_is_traced_and_logs_everything(dev: Any) -> None:
    dev.template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": Match.object_like({"Level": "ALL"}),
            "DefinitionString": Match.any_value(),
        },
    )


def test_the_deploy_waits_for_the_run_after_every_function(dev: Any) -> None:
    # Given the custom resource CloudFormation waits on
    (logical_id,) = dev.of_type("Custom::DataMigrations")
    resource = dev.resources[logical_id]
    # Then it is updated after every topology function (the new code is live first)
    assert set(dev.function_ids().values()) <= set(resource["DependsOn"])
    # And it changes (so it runs) whenever the migrations package changes
    assert resource["Properties"]["Migrations"] == runner.migrations_fingerprint()
    # And its provider polls the run every 30 s for up to an hour
    (waiter,) = [
        r
        for k, r in dev.of_type("AWS::StepFunctions::StateMachine").items()
        if "waiter" in k.lower()
    ]
    text = json.dumps(waiter["Properties"]["DefinitionString"])
    assert '\\"IntervalSeconds\\":30' in text
    assert f'\\"MaxAttempts\\":{3600 // 30}' in text


def policy_statements(dev: Any, role_construct: Any) -> list[dict[str, Any]]:
    role_id = dev.stack.resolve(role_construct.node.default_child.logical_id)
    return [
        statement
        for policy in dev.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        found |= {action} if isinstance(action, str) else set(action)
    return found


def test_the_state_machine_may_invoke_only_the_migrations_function(dev: Any) -> None:
    statements = policy_statements(dev, dev.stack.migrations.state_machine.role)
    function_id = dev.function_ids()[topology.DEPLOY_RUNNER]
    (invoke,) = [s for s in statements if "lambda:InvokeFunction" in actions_of([s])]
    assert actions_of([invoke]) == {"lambda:InvokeFunction"}
    assert {json.dumps(r) for r in invoke["Resource"]} == {
        json.dumps({"Fn::GetAtt": [function_id, "Arn"]}),
        json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [function_id, "Arn"]}, ":*"]]}),
    }


def test_the_start_and_poll_functions_hold_only_what_they_call(dev: Any) -> None:
    provider = dev.stack.migrations
    start = provider.node.find_child("MigrationsStart")
    poll = provider.node.find_child("MigrationsPoll")
    logs = {"logs:CreateLogStream", "logs:PutLogEvents"}
    start_statements = policy_statements(dev, start.role)
    assert actions_of(start_statements) - logs == {
        "states:StartExecution",
        "cloudformation:DescribeStacks",
    }
    (describe,) = [s for s in start_statements if s["Action"] == "cloudformation:DescribeStacks"]
    assert describe["Resource"] == {"Ref": "AWS::StackId"}
    poll_statements = policy_statements(dev, poll.role)
    assert actions_of(poll_statements) - logs == {"states:DescribeExecution"}
    (executions,) = [s for s in poll_statements if s["Action"] == "states:DescribeExecution"]
    assert ":execution:" in json.dumps(executions["Resource"])


def test_a_failed_or_timed_out_run_raises_the_alarm(dev: Any) -> None:
    alarm = dev.stack.migrations.failure_alarm
    props = dev.resources[dev.stack.resolve(alarm.node.default_child.logical_id)]["Properties"]
    assert props["Threshold"] == 1 and props["TreatMissingData"] == "notBreaching"
    metrics = {m["Id"]: m for m in props["Metrics"]}
    assert metrics["expr_1"]["Expression"] == "FILL(failed, 0) + FILL(timedOut, 0)"
    assert metrics["failed"]["MetricStat"]["Metric"]["MetricName"] == "ExecutionsFailed"
    assert metrics["timedOut"]["MetricStat"]["Metric"]["MetricName"] == "ExecutionsTimedOut"


def test_the_fingerprint_follows_the_migrations_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a migrations package with one step
    package = tmp_path / "migrations"
    (package / "steps").mkdir(parents=True)
    (package / "steps" / "0001_baseline.py").write_text("ID = '0001'\n")
    monkeypatch.setattr(runner, "MIGRATIONS_PACKAGE", package)
    first = runner.migrations_fingerprint()
    # When compiled files appear, nothing changes; when a step is added, it changes
    (package / "steps" / "__pycache__").mkdir()
    (package / "steps" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert runner.migrations_fingerprint() == first
    (package / "steps" / "0002_words.py").write_text("ID = '0002'\n")
    assert runner.migrations_fingerprint() != first


def test_synth_names_the_deploy_time_runner(dev: Any) -> None:
    # `make synth` prints this line after the template's path
    from infra.app import describe_deploy_runner

    line = describe_deploy_runner(dev.stack)
    (run_id,) = dev.of_type("Custom::DataMigrations")
    state_machine = dev.stack.resolve(
        dev.stack.migrations.state_machine.node.default_child.logical_id
    )
    assert line.startswith(f"deploy-time migrations: {run_id} (Custom::DataMigrations)")
    assert state_machine in line


# --- the state machine and the handler agree ------------------------------------------------
# A walk of the synthesized definition with the real handler behind its Task (the engine
# replaced): only what this definition uses is interpreted, anything else fails the walk.


def walk(asl: dict[str, Any], invoke: Any, execution_name: str = "req-1") -> dict[str, Any]:
    """Run the definition: the end state's kind, with the error and cause of a Fail."""

    def path(document: dict[str, Any], json_path: str) -> Any:
        assert json_path.startswith("$.")
        value: Any = document
        for part in json_path[2:].split("."):
            if not isinstance(value, dict) or part not in value:
                return _ABSENT
            value = value[part]
        return value

    state_name, document, invocations = asl["StartAt"], {}, 0
    while True:
        state = asl["States"][state_name]
        if state["Type"] == "Task":
            (parameter,) = state["Parameters"].items()
            assert parameter == ("runner.$", "States.Format('deploy:{}', $$.Execution.Name)")
            payload = {"runner": f"deploy:{execution_name}"}
            invocations += 1
            assert invocations < 50, "the state machine loops without end"
            assert state["ResultPath"] == "$.run"
            document = {**document, "run": invoke(payload)}
            state_name = state["Next"]
        elif state["Type"] == "Choice":
            state_name = state["Default"]
            for choice in state["Choices"]:
                value = path(document, choice["Variable"])
                if "IsPresent" in choice:
                    matched = (value is not _ABSENT) == choice["IsPresent"]
                else:
                    matched = value is choice["BooleanEquals"]
                if matched:
                    state_name = choice["Next"]
                    break
        elif state["Type"] == "Succeed":
            return {"end": "Succeed", "invocations": invocations}
        elif state["Type"] == "Fail":
            return {
                "end": "Fail",
                "error": path(document, state["ErrorPath"]),
                "cause": path(document, state["CausePath"]),
                "invocations": invocations,
            }
        else:
            raise AssertionError(f"state type {state['Type']} is not walked")


_ABSENT = object()


@pytest.fixture
def handler_with_engine(monkeypatch: pytest.MonkeyPatch) -> Any:
    import sys

    from tests.deploy_runner import engine_module, load_handler

    engine = engine_module()
    if "catalog.migrations" not in sys.modules:
        monkeypatch.setitem(sys.modules, "catalog.migrations", engine)
    return load_handler(), engine


def test_the_state_machine_invokes_again_until_the_engine_is_done(
    dev: Any, handler_with_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.deploy_runner import Context, Upgrades

    handler, engine = handler_with_engine
    # Given an engine that needs three invocations (its deadline comes twice)
    upgrades = Upgrades(
        *(
            engine.RunResult(done=done, applied=applied, pending=pending, scanned=10, changed=5)
            for done, applied, pending in (
                (False, (), ("0002",)),
                (False, (), ("0002",)),
                (True, ("0002",), ()),
            )
        )
    )
    monkeypatch.setattr(engine, "upgrade", upgrades)
    # When the deploy's execution runs
    asl = definition(dev, dev.stack.migrations.state_machine)
    ended = walk(asl, lambda payload: handler.lambda_handler(payload, Context()))
    # Then it invoked the function three times, as the execution's runner, and succeeded
    assert ended == {"end": "Succeed", "invocations": 3}
    assert {call["runner"] for call in upgrades.calls} == {"deploy:req-1"}


def test_a_failing_migration_fails_the_execution_with_the_handler_s_message(
    dev: Any, handler_with_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.deploy_runner import Context, Upgrades

    handler, engine = handler_with_engine
    # Given an engine whose run stops on another runner's lease
    error = engine.LeaseHeld("cli:ann", "2026-12-01T12:00:00Z")
    monkeypatch.setattr(engine, "upgrade", Upgrades(error=error))
    # When the deploy's execution runs
    asl = definition(dev, dev.stack.migrations.state_machine)
    ended = walk(asl, lambda payload: handler.lambda_handler(payload, Context()))
    # Then it ends in its Fail state with the error's name and one-line message, which
    # the waiter hands to CloudFormation
    assert ended == {
        "end": "Fail",
        "error": "LeaseHeld",
        "cause": " ".join(str(error).split()),
        "invocations": 1,
    }
