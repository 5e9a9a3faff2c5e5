"""`make run`'s start-up in steps, for a test that plays a client racing the seed.

Run as `python -m tests.e2e.seed_race_driver`: it starts the local system not yet ready,
prints `started <url>` and waits for a line on stdin; then creates the demo users, prints
`users`, and waits for the next line; then seeds as `make run` does and prints `seeded
<report as JSON>`; each further line seeds again; stdin's end stops it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys

from infra.local.__main__ import seed_and_open
from infra.local.demo_users import create_demo_users
from infra.local.system import LocalSystem


def main() -> int:
    # The steps' lines go out on the original stdout, each in one write; everything else
    # the system prints (the functions' JSON logs, from several threads) goes to stderr, so
    # a log line can never land inside a step's line.
    steps = os.dup(1)
    os.dup2(2, 1)

    def say(line: str) -> None:
        os.write(steps, (line + "\n").encode())

    system = LocalSystem(port=0).start(ready=False)
    try:
        assert system.user_pool is not None
        say(f"started {system.url}")
        sys.stdin.readline()
        create_demo_users(system.url, system.aws_url, system.region, system.user_pool)
        say("users done")
        for _ in sys.stdin:
            report = seed_and_open(system)
            say(f"seeded {json.dumps(dataclasses.asdict(report))}")
    finally:
        system.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
