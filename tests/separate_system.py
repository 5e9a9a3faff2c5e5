"""A local system of its own, in a child process, for a test that must not share one.

The fuzzer signs up, resets passwords, pauses and wakes webhooks and makes data no other
test expects, at random: on the shared system that raced other workers' tests (the README
tour's account got the password of the fuzzer's reset example) and left deliveries
retrying after the test. In a child process its system, pump and threads end with it.

`python -m tests.separate_system` starts the system as the shared test one is (no
throttles, demo users, seeded categories), prints where it is on one line and serves until
its standard input closes; `separate_system()` runs it for a `with` block. A test that
must change the system's code (fault injection) names a module in `plugin`: the child
calls its `install()` before it starts (importing it must change nothing: the test's own
process imports it too).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
READY = "separate system at "
PLUGIN = "CATALOG_TEST_PLUGIN"


@dataclass(frozen=True)
class SeparateSystem:
    """Where the child's system is: as much of `LocalSystem` as a test reads over HTTP."""

    url: str
    aws_url: str
    region: str
    names: dict[str, dict[str, str]]


def main() -> int:
    from infra.local.demo_users import DEMO_USERS, create_demo_users, demo_password, login
    from infra.local.seed import seed_categories
    from infra.local.system import LocalSystem

    sources: dict[str, Any] = {}
    if os.environ.get(PLUGIN):
        plugin = importlib.import_module(os.environ[PLUGIN])
        plugin.install()
        # A plugin may name the event sources the pump plays (LocalSystem's queue_sources
        # and streams); otherwise all of the topology's
        sources = getattr(plugin, "PUMP_SOURCES", {})
    system = LocalSystem(port=0, aws_port=0, throttling=False, **sources).start(ready=False)
    try:
        create_demo_users(system.url, system.aws_url, system.region, system.user_pool)
        seed_categories(system.url, login(system.url, DEMO_USERS["admin"], demo_password()))
        system.mark_ready()
        where = {
            "url": system.url,
            "aws_url": system.aws_url,
            "region": system.region,
            "names": system.names,
        }
        print(READY + json.dumps(where), flush=True)
        sys.stdin.read()  # until the parent closes the pipe (or dies)
    finally:
        system.stop()
    return 0


@contextmanager
def separate_system(
    plugin: str | None = None, env: dict[str, str] | None = None, stop_within_s: float = 30
) -> Iterator[SeparateSystem]:
    """A system of its own (with `plugin` imported first, and `env` added to the
    environment), stopped when the block ends, whatever it still had to do."""
    env = {
        **os.environ,
        **(env or {}),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)]),
        PLUGIN: plugin or "",
    }
    # The parent's system named its endpoint and resources in the environment: the child
    # names its own.
    env.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.separate_system"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        lines = []
        for line in process.stdout:
            if line.startswith(READY):
                break
            lines.append(line)
        else:  # it ended before it was ready
            raise RuntimeError("the separate system did not start:\n" + "".join(lines[-20:]))
        # Keep reading what it prints (its functions' logs and metrics): a full pipe would
        # block its next print, and with it the system.
        threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
        where: dict[str, Any] = json.loads(line.removeprefix(READY))
        yield SeparateSystem(**where)
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=stop_within_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    raise SystemExit(main())
