"""The README's change-events walk-through (webhook, signature check, subscriptions) works."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path
from typing import Any

from infra.local.demo_users import DEMO_USERS, demo_password, login

ROOT = Path(__file__).resolve().parents[2]


def section_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Change events, webhooks and emails", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, re.DOTALL)


WAIT_FOR_DELIVERY = (
    "for _ in $(seq 300); do curl -s $API/v1/webhooks/$ID/deliveries"
    ' -H "Authorization: Bearer $ADMIN"'
    ' | grep -q \'"event_type":"webhook.ping","attempt":[0-9]*,"ok":true\' && break;'
    " sleep 0.2; done"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_webhook_and_email_examples_run(local_system: Any) -> None:
    # Given a quiet system: earlier tests' product events would reach the new webhook too
    local_system.drain_events(120)
    # And the README's webhook and email blocks, pointed at the local system and a free port
    webhook, emails = section_blocks()
    port = str(free_port())
    # And the demo editor's token for the email block
    editor = login(local_system.url, DEMO_USERS["editor"], demo_password())
    script = "\n".join(
        [
            webhook.replace("API=http://127.0.0.1:3000", f"API={local_system.url}")
            .replace("8001", port)
            # 3 s is for people; a loaded test machine waits (at most 60 s) for the
            # deliveries list to show the ping's successful attempt instead
            .replace("sleep 3", WAIT_FOR_DELIVERY),
            f"TOKEN={editor}",
            emails,
        ]
    )
    # When they run in bash, stopping at the first failure
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    # Then they all succeed
    assert result.returncode == 0, result.stderr
    # And the output shows the secret, the verified ping, its delivery and the subscriptions
    out = result.stdout
    for expected in (
        '"secret":"whsec_',
        '"event_id":',  # the ping was queued
        "verified webhook.ping",  # the receiver checked the signature
        '"ok":true,"status_code":204',  # and the deliveries list shows it
        '"categories":["kitchen","lighting"]',
    ):
        assert expected in out, f"{expected!r} missing from:\n{out}"
