"""The breaking-change gate: the generated OpenAPI document against the released contract.

    python -m infra.contract            # functions/meta/openapi.json vs api/openapi.v1.json

Optic (npm @useoptic/optic, pinned in tools/package.json, installed into .tools/node by
`make contract`) compares the two with its `breaking-changes` ruleset: a removed operation,
response status, response property or enum value, a new required parameter or request
property, a changed or narrowed type all fail. Two ways past it, both deliberate:

- a new major version (`info.version`), which Optic's ruleset lets through; it is served
  under a new path prefix (/v2) beside the old one;
- a removal after its sunset: an operation or a schema property of the released contract
  marked `deprecated: true` with an `x-sunset` date (YYYY-MM-DD) that has passed is left out
  of the comparison, so removing it is not a break.

It runs offline: telemetry and the update check are turned off, and Optic reads only the two
files it is given.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CURRENT = ROOT / "functions" / "meta" / "openapi.json"
OPTIC = ROOT / ".tools" / "node" / "node_modules" / ".bin" / "optic"
STANDARD = "ruleset:\n  - breaking-changes\n"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def latest_release() -> Path | None:
    """The released contract of the highest major: api/openapi.v<major>.json."""
    releases = sorted(
        (int(path.stem.removeprefix("openapi.v")), path)
        for path in (ROOT / "api").glob("openapi.v*.json")
        if path.stem.removeprefix("openapi.v").isdigit()
    )
    return releases[-1][1] if releases else None


def _sunset_passed(node: dict[str, Any], today: date) -> bool:
    sunset = node.get("x-sunset")
    return (
        bool(node.get("deprecated"))
        and sunset is not None
        and date.fromisoformat(str(sunset)[:10]) <= today
    )


def without_sunset(document: dict[str, Any], today: date) -> dict[str, Any]:
    """The document less what may be removed by now: operations and properties whose sunset
    has passed."""
    pruned = copy.deepcopy(document)
    for path, item in list(pruned.get("paths", {}).items()):
        for method in METHODS:
            if method in item and _sunset_passed(item[method], today):
                del item[method]
        if not any(method in item for method in METHODS):
            del pruned["paths"][path]
    for schema in pruned.get("components", {}).get("schemas", {}).values():
        _prune_properties(schema, today)
    return pruned


def _prune_properties(schema: Any, today: date) -> None:
    if isinstance(schema, list):
        for item in schema:
            _prune_properties(item, today)
        return
    if not isinstance(schema, dict):
        return
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, sub in list(properties.items()):
            if isinstance(sub, dict) and _sunset_passed(sub, today):
                del properties[name]
                if name in schema.get("required", []):
                    schema["required"].remove(name)
    for value in schema.values():
        if isinstance(value, (dict, list)):
            _prune_properties(value, today)


def check(released: dict[str, Any], current: dict[str, Any], today: date) -> tuple[int, str]:
    """Optic's verdict on `current` against `released`: (exit status, report); 0 passes."""
    if not OPTIC.exists():
        return 2, f"{OPTIC.relative_to(ROOT)} is missing: run `make contract` (it installs it)"
    with tempfile.TemporaryDirectory(prefix="contract-") as work:
        folder = Path(work)
        before, after, standard = (
            folder / "released.json",
            folder / "current.json",
            folder / "s.yml",
        )
        before.write_text(json.dumps(without_sunset(released, today)))
        after.write_text(json.dumps(current))
        standard.write_text(STANDARD)
        environment = {
            **os.environ,
            "OPTIC_TELEMETRY_LEVEL": "off",  # no Segment events, no Sentry reports
            "NO_UPDATE_NOTIFIER": "1",  # no registry look-up for a newer Optic
            "CI": "true",
        }
        result = subprocess.run(  # noqa: S603 - our pinned tool, our files
            [str(OPTIC), "diff", str(before), str(after), "--check", "--standard", str(standard)],
            cwd=folder,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    report = (result.stdout + result.stderr).replace(str(folder) + "/", "")
    return result.returncode, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--current", type=Path, default=CURRENT)
    parser.add_argument("--released", type=Path, help="default: api/openapi.v<major>.json")
    args = parser.parse_args()
    current = json.loads(args.current.read_text())
    released_path = args.released or latest_release()
    if released_path is None or not released_path.exists():
        print("no released contract (api/openapi.v<major>.json): commit one when releasing")
        return 1
    status, report = check(json.loads(released_path.read_text()), current, datetime.now(UTC).date())
    print(report.rstrip())
    verdict = "passes" if status == 0 else "FAILS: a breaking change (see above)"
    print(f"contract: {args.current.name} against {released_path.name} {verdict}")
    return status


if __name__ == "__main__":
    sys.exit(main())
