"""The synthesized templates as committed snapshots: normalization, comparison, rewriting.

A snapshot is the template with what legitimately changes on every build taken out: the
content hashes naming code assets, and the hash CDK puts in the logical id of a function's
published version (`FnAuthCurrentVersion037F6C48<32 hex>`), which covers the function's
code and its layers' contents (so it also differed between a clean checkout and a
developer's tree, whose built layer is not byte for byte the same).
`tests/infra/test_template_snapshot.py` compares each stage's synthesized template with
its snapshot; after a deliberate change to the stack, `make snapshots` rewrites them and
the diff shows exactly what the change deploys.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
STAGES = ("dev", "prod")
_ASSET_KEY = re.compile(r"^[0-9a-f]{64}\.zip$")
_VERSION_ID = re.compile(r"(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}")


def normalize(template: Any) -> Any:
    """The template without its asset and code hashes (they change with any byte of code)."""
    text = json.dumps(_without_asset_keys(template))
    return json.loads(_VERSION_ID.sub(r"\1<code-hash>", text))


def _without_asset_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: "<asset>.zip"
            if key == "S3Key" and isinstance(item, str) and _ASSET_KEY.match(item)
            else _without_asset_keys(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_without_asset_keys(item) for item in value]
    return value


def render(template: dict[str, Any]) -> str:
    return json.dumps(normalize(template), indent=1, sort_keys=True) + "\n"


def path(stage: str) -> Path:
    return SNAPSHOTS / f"Catalog-{stage}.template.json"


def load(stage: str) -> dict[str, Any]:
    snapshot: dict[str, Any] = json.loads(path(stage).read_text())
    return snapshot


def write_all() -> None:
    """Synthesize every snapshotted stage and rewrite its snapshot (`make snapshots`)."""
    import tempfile

    from infra.app import build

    for stage in STAGES:
        app, stack = build(stage=stage, outdir=tempfile.mkdtemp(prefix=f"cdk-{stage}."))
        assembly = app.synth()
        template = json.loads((Path(assembly.directory) / stack.template_file).read_text())
        path(stage).write_text(render(template))
        print(f"wrote {path(stage).relative_to(Path.cwd())}")


if __name__ == "__main__":
    write_all()
