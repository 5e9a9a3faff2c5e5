"""The README's curl tour works as written against the local system."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def tour_script() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## API tour", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    assert blocks, "the API tour has no bash block"
    return "\n".join(blocks)


def test_the_readme_tour_runs_and_shows_each_outcome(local_system: Any) -> None:
    # Given the README's API tour, pointed at the local system instead of port 3000
    script = tour_script()
    assert "API=http://127.0.0.1:3000" in script
    script = script.replace("API=http://127.0.0.1:3000", f"API={local_system.url}")
    # When it runs in bash, stopping at the first failure
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
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
        '"email":"ada@example.com","name":"Ada","role":"viewer"',
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
    ):
        assert expected in out, f"{expected!r} missing from the tour's output"
