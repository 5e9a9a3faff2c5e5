"""Run a Python snippet in a fresh interpreter, as a Lambda container starts: the layer's
`catalog` and the repository on its path, nothing imported yet. The snippet prints its
findings as JSON on its last line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def fresh_process(
    script: str, *args: str, timeout: float = 120, env: dict[str, str | None] | None = None
) -> Any:
    """The snippet's JSON findings; `env` adds variables to the test's (None: removes one)."""
    base = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)])}
    for name, value in (env or {}).items():
        if value is None:
            base.pop(name, None)
        else:
            base[name] = value
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=base,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
