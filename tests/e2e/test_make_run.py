"""`make run`'s program starts everything, seeds demo data, serves, and stops on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from catalog.migrations.registry import discover

ROOT = Path(__file__).resolve().parents[2]


def test_the_local_runner_serves_seeded_products_and_stops_cleanly() -> None:
    # Given `make run`'s program started on free ports
    env = {
        **os.environ,
        "PORT": "0",
        "AWS_PORT": "0",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)]),
    }
    env.pop("AWS_ENDPOINT_URL", None)
    # A developer's shell sets none of Powertools' variables (the tests' conftest does).
    for name in [name for name in env if name.startswith("POWERTOOLS_")]:
        env.pop(name)
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # When it has started and printed where it serves
        url = None
        lines = []
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line or "Ctrl-C stops" in line:
                break
            lines.append(line)
            found = re.match(r"Catalog API\s+(http://\S+)", line)
            url = url or (found.group(1) if found else None)
        # Then it printed the API's address
        assert url, "".join(lines)
        # Keep reading what it prints (its functions' logs, the emails it sends): a full
        # pipe would block its next print, and with it its shutdown.
        rest: list[str] = []
        drain = threading.Thread(target=lambda: rest.extend(process.stdout or []), daemon=True)
        drain.start()
        # And the API is healthy
        assert requests.get(f"{url}/v1/health", timeout=10).json()["status"] == "ok"
        # And anonymous readers see the seeded products, but not the seeded draft
        skus = {p["sku"] for p in requests.get(f"{url}/v1/products", timeout=10).json()["items"]}
        assert {"MUG-001", "LAMP-042"} <= skus
        assert "TEE-ORG-M" not in skus  # a draft: hidden from anonymous readers
        # And it applied every migration before seeding, as a deploy does
        output = "".join(lines)
        assert f"Migrations     {len(discover())} applied" in output
        # And it printed the demo users' emails
        for email in ("admin@example.com", "editor@example.com", "viewer@example.com"):
            assert email in output
    finally:
        # When it gets Ctrl-C
        process.send_signal(signal.SIGINT)
        # Then it stops cleanly: exit code 0
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()  # not left running after the test
            raise
        assert code == 0, "".join(lines[-20:])
