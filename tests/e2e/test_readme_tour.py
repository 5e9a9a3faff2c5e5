"""The README's curl tour works as written against the local system."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def tour_script() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## API tour", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    assert blocks, "the API tour has no bash block"
    return "\n".join(blocks)


def test_the_readme_tour_runs_and_shows_each_outcome(local_system: Any, tmp_path: Path) -> None:
    # Given the README's API tour, pointed at the local system instead of port 3000
    script = tour_script()
    assert "API=http://127.0.0.1:3000" in script
    script = script.replace("API=http://127.0.0.1:3000", f"API={local_system.url}")
    # And signing up an address of its own: the worker's shared system may hold the
    # README's account already (the OpenAPI examples use it, and one resets its password)
    assert "ada@example.com" in script
    email = f"ada-{uuid.uuid4().hex[:10]}@example.com"
    script = script.replace("ada@example.com", email)
    # When it runs in bash, stopping at the first failure, with `catalog` on the PATH as
    # `source .venv/bin/activate` puts it, and a config directory of its own for the CLI's
    # tokens
    venv_bin = Path(sys.executable).parent
    assert (venv_bin / "catalog").exists(), "make setup installs the catalog command"
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={
            **os.environ,
            "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
            "XDG_CONFIG_HOME": str(tmp_path),
        },
    )
    # Then every step succeeds
    assert result.returncode == 0, (
        result.stderr + "\n--- what the tour printed last:\n" + (result.stdout[-4000:])
    )
    # And the output shows each outcome the tour promises
    out = result.stdout
    for expected in (
        '"status":"ok"',
        "HTTP/1.1 201 Created",
        "Location: /v1/products/",
        "HTTP/1.1 204 No Content",
        '"price":"11.00"',
        '"confirmation_required":false',
        '"email":"editor@example.com"',
        f'"email":"{email}","name":"Ada","role":"viewer"',
        "urn:catalog:problem:forbidden",
        "urn:catalog:problem:unauthorized",
        "urn:catalog:problem:validation-error",
        "urn:catalog:problem:malformed-json",
        "urn:catalog:problem:invalid-cursor",
        "HTTP/1.1 405 Method Not Allowed",
        "Idempotent-Replayed: true",
        'ETag: "1"',
        "HTTP/1.1 304 Not Modified",
        "urn:catalog:problem:precondition-failed",
        '"atomic":true,"applied":2',
        "S3 answered 204",
        "ready 48 32 ['http",
        "200 image/webp",
        "import done rows 3 created 1 failed 2",
        "export done",
        "id,sku,name,description,price,currency,category,tags,stock,status",
        "signed in to",
        " done: rows_total 1, rows_done 1, ",
        "bytes written to /tmp/tour-kitchen.csv",
        "TOUR-CLI-1 is in the export",
    ):
        assert expected in out, f"{expected!r} missing from the tour's output"
