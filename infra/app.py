"""CDK app entry point: one catalog stack for the chosen stage, checked by cdk-nag."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

# Run as `python infra/app.py` (the cdk.json app), sys.path[0] is infra/, whose modules
# would shadow top-level packages; put the repository root and the layer source first.
_ROOT = Path(__file__).resolve().parents[1]
if __name__ == "__main__":
    sys.path[:1] = [str(_ROOT), str(_ROOT / "layers" / "core")]

from aws_cdk import App, Environment, Validations  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.stack import CatalogStack  # noqa: E402
from infra.stages import stage as stage_config  # noqa: E402

DEFAULT_STAGE = "dev"


def stack_name(stage: str) -> str:
    return f"Catalog-{stage}"


def environment() -> Environment | None:
    """The deploy target when the CDK CLI (or the shell) names one; None keeps synth offline."""
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEFAULT_REGION")
    if not (account or region):
        return None
    return Environment(account=account, region=region)


def feature_flags() -> dict[str, object]:
    """cdk.json's context: the CDK CLI passes it itself, a plain `python infra/app.py` does not.

    Handing it to App() either way keeps `make synth`, `cdk synth` and the tests on the same
    feature flags; values given to the CLI (`-c stage=prod`) still take precedence.
    """
    context: dict[str, object] = json.loads((_ROOT / "cdk.json").read_text())["context"]
    return context


def build(stage: str | None = None, outdir: str | None = None) -> tuple[App, CatalogStack]:
    """The app with its stack and the AwsSolutions checks, not yet synthesized."""
    app = App(
        outdir=outdir or os.environ.get("CDK_OUTDIR") or tempfile.mkdtemp(prefix="cdk."),
        context=feature_flags(),
    )
    name = stage or app.node.try_get_context("stage") or os.environ.get("STAGE") or DEFAULT_STAGE
    stack = CatalogStack(
        app,
        stack_name(name),
        stage=stage_config(name),
        env=environment(),
        description=f"Serverless product catalog ({name})",
    )
    # A plugin, not an Aspect, in cdk-nag 3: synth fails on any unacknowledged finding.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def main() -> None:
    app, stack = build()
    assembly = app.synth()
    template = Path(assembly.directory) / stack.template_file
    print(f"synthesized {stack.stack_name}: {template}")
    print(describe_deploy_runner(stack))


def describe_deploy_runner(stack: CatalogStack) -> str:
    """What a deploy of this template does about data migrations, in the template's names."""
    run = stack.migrations.deploy_run.node.default_child
    state_machine = stack.migrations.state_machine.node.default_child
    return (
        f"deploy-time migrations: {stack.resolve(run.logical_id)} ({run.cfn_resource_type}) "
        f"runs the state machine {stack.resolve(state_machine.logical_id)} once every "
        "function is updated, and fails the deploy when a migration fails"
    )


if __name__ == "__main__":
    main()
