"""Synthesizes the CDK app once per session and offers views of the template to the tests."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / ".build" / "layers" / "core" / "python" / "catalog"
PLANTED_BYTECODE = LAYER / "__pycache__" / "left_by_a_local_run.cpython-311.pyc"

Resource = dict[str, Any]


@dataclass
class Acknowledged:
    """One cdk-nag acknowledgment as the stack made it: where, which rule, why."""

    path: str
    rule: str
    reason: str


@dataclass
class Synth:
    """One synthesized stage: the CDK objects, the template and lookups over it."""

    stage: str
    app: Any
    stack: Any
    template_file: Path
    # The synth-time cdk-nag report when it failed: only test_nag fails on it, the other
    # tests still check the template (CDK writes it before running validation plugins).
    nag_error: str | None = None
    json: dict[str, Any] = field(init=False)
    resources: dict[str, Resource] = field(init=False)

    def __post_init__(self) -> None:
        self.json = json.loads(self.template_file.read_text())
        self.resources = self.json["Resources"]

    @cached_property
    def template(self) -> Any:
        """The template as `aws_cdk.assertions.Template`, for its matchers."""
        from aws_cdk.assertions import Template

        return Template.from_json(self.json)

    def of_type(self, cfn_type: str) -> dict[str, Resource]:
        return {k: r for k, r in self.resources.items() if r["Type"] == cfn_type}

    def function_ids(self) -> dict[str, str]:
        """Topology function name -> logical id, from the tag the stack puts on functions."""
        from infra.stack import FUNCTION_TAG

        found: dict[str, str] = {}
        for logical_id, resource in self.of_type("AWS::Lambda::Function").items():
            tags = {t["Key"]: t["Value"] for t in resource["Properties"].get("Tags", [])}
            if FUNCTION_TAG in tags:
                found[tags[FUNCTION_TAG]] = logical_id
        return found

    def logical_ids_under(self, construct: Any, cfn_type: str) -> set[str]:
        """The logical ids of the resources of `cfn_type` a construct holds (at any depth)."""
        from aws_cdk import CfnResource

        return {
            self.stack.resolve(c.logical_id)
            for c in construct.node.find_all()
            if isinstance(c, CfnResource) and c.cfn_resource_type == cfn_type
        }

    def deploy_runner_functions(self) -> set[str]:
        """The Lambda functions of the deploy's migration runner (infra/stack/migrations.py):
        CloudFormation machinery (its custom resource's provider), not topology functions."""
        return self.logical_ids_under(self.stack.migrations, "AWS::Lambda::Function")

    def function(self, name: str) -> Resource:
        return self.resources[self.function_ids()[name]]

    def logical_names(self, constructs: dict[str, Any]) -> dict[str, str]:
        """Logical id -> topology name, for constructs a concern exposes by topology name."""
        return {
            self.stack.resolve(c.node.default_child.logical_id): n for n, c in constructs.items()
        }

    def properties_by_name(self, constructs: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Topology name -> template properties, for constructs exposed by topology name."""
        ids = self.logical_names(constructs)
        return {name: self.resources[logical_id]["Properties"] for logical_id, name in ids.items()}

    def queue_names(self) -> dict[str, str]:
        """Logical id -> topology name of every queue, dead-letter queues (`<name>-dlq`) too."""
        from infra import topology

        events = self.stack.events
        dead_letters = {
            topology.QUEUES[name].dlq_name: queue
            for name, queue in events.dead_letter_queues.items()
        }
        return self.logical_names({**events.queues, **dead_letters})

    def resource_path(self, resource_id: Any) -> str:
        """The full path of an API resource, from a method's ResourceId or a ParentId."""
        if "Fn::GetAtt" in resource_id:  # the RestApi's RootResourceId
            assert resource_id["Fn::GetAtt"][1] == "RootResourceId"
            return ""
        resource = self.resources[resource_id["Ref"]]
        assert resource["Type"] == "AWS::ApiGateway::Resource"
        props = resource["Properties"]
        return f"{self.resource_path(props['ParentId'])}/{props['PathPart']}"

    def methods_by_route(self) -> dict[tuple[str, str], Resource]:
        """(HTTP method, full path) -> the AWS::ApiGateway::Method serving it."""
        methods: dict[tuple[str, str], Resource] = {}
        for method in self.of_type("AWS::ApiGateway::Method").values():
            props = method["Properties"]
            key = (props["HttpMethod"], self.resource_path(props["ResourceId"]) or "/")
            assert key not in methods, f"two methods for {key}"
            methods[key] = method
        return methods

    def integrated_function(self, method: Resource) -> str:
        """The topology name of the function a Lambda proxy method invokes."""
        integration = method["Properties"]["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert integration["IntegrationHttpMethod"] == "POST"
        targets = set(_getatt_targets(integration["Uri"]))
        names = {logical: name for name, logical in self.function_ids().items()}
        (function,) = [names[t] for t in targets if t in names]
        return function


def watched_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm's properties watch (MetricName, Namespace, Dimensions), named
    directly or in its `Metrics` (which cdk-monitoring-constructs writes, with a label, and
    math expressions use)."""
    if "MetricName" in alarm:
        return [{k: alarm[k] for k in ("MetricName", "Namespace", "Dimensions") if k in alarm}]
    return [dict(m["MetricStat"]["Metric"]) for m in alarm["Metrics"] if "MetricStat" in m]


def watched_metric(alarm: dict[str, Any]) -> dict[str, Any]:
    """The one metric an alarm watches."""
    (metric,) = watched_metrics(alarm)
    return metric


def _getatt_targets(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            yield value["Fn::GetAtt"][0]
        for item in value.values():
            yield from _getatt_targets(item)
    elif isinstance(value, list):
        for item in value:
            yield from _getatt_targets(item)


def _ensure_layer_built() -> None:
    # `make test` builds first; a bare `pytest tests/infra` should not fail on a fresh clone.
    if not LAYER.is_dir():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "build_layers.py")], check=True)


def synthesize(stage: str, outdir: Path) -> Synth:
    """Synthesize the app as infra/app.py builds it, AwsSolutions checks included."""
    from infra.app import build

    app, stack = build(stage=stage, outdir=str(outdir))
    nag_error = None
    try:
        app.synth()
    except Exception as error:  # jsii surfaces the validation failure as a plain error
        if "ValidationFailed" not in str(error):
            raise
        nag_error = str(error)
    return Synth(stage, app, stack, outdir / stack.template_file, nag_error)


@pytest.fixture(scope="session")
def synth_stage(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Synth]:
    """Synthesize a stage on first request; later requests reuse it, or its failure."""
    _ensure_layer_built()
    # Bytecode as local runs leave it beside the layer's sources, so that every synth of the
    # session meets some (test_stack.py: no asset ships it).
    PLANTED_BYTECODE.parent.mkdir(exist_ok=True)
    PLANTED_BYTECODE.write_bytes(b"left by a local run")
    done: dict[str, Synth | BaseException] = {}

    def get(stage: str) -> Synth:
        if stage not in done:
            try:
                done[stage] = synthesize(stage, tmp_path_factory.mktemp(f"cdk-{stage}"))
            except Exception as error:
                done[stage] = error
        result = done[stage]
        if isinstance(result, BaseException):
            pytest.fail(f"synth of stage {stage} failed: {result}")
        return result

    return get


@pytest.fixture(scope="session")
def dev(synth_stage: Callable[[str], Synth]) -> Synth:
    return synth_stage("dev")


@pytest.fixture(scope="session")
def unacknowledged(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Any, list[Acknowledged]]]:
    """The dev app built with every cdk-nag acknowledgment recorded instead of applied."""
    _ensure_layer_built()
    from infra.app import build
    from infra.stack import base

    recorded: list[Acknowledged] = []

    def record(scope: Any, rule: str, reason: str) -> None:
        recorded.append(Acknowledged(scope.node.path, rule, reason))

    with pytest.MonkeyPatch.context() as patch:
        # Every construct acknowledges through `base.acknowledge`, this one attribute.
        patch.setattr(base, "acknowledge", record)
        app, _ = build(stage="dev", outdir=str(tmp_path_factory.mktemp("cdk-unacknowledged")))
    yield app, recorded
