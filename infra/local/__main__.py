"""`make run`: start the whole catalog locally and serve until Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import threading

from catalog.migrations import upgrade
from infra.local.demo_users import DEMO_USERS, create_demo_users, demo_password, login
from infra.local.gateway import describe
from infra.local.mailbox import format_email, sent_emails
from infra.local.seed import SeedReport, seed
from infra.local.system import LocalSystem


def main() -> int:
    port = int(os.environ.get("PORT", "3000"))
    aws_port = int(os.environ.get("AWS_PORT", "4566"))
    # Health answers 503 until the demo users have their roles and the seed data is
    # written: a client waiting for it never meets a half-ready catalog.
    system = LocalSystem(port=port, aws_port=aws_port).start(ready=False)
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        assert system.gateway is not None and system.user_pool is not None
        print(f"Starting       {system.url}   (/v1/health answers 503 until ready)", flush=True)
        create_demo_users(system.url, system.aws_url, system.region, system.user_pool)
        # As a deploy does: pending data migrations first, then the data (seeded anew).
        migrated = upgrade(runner="make run")
        report = seed_and_open(system)
        password = demo_password()
        example = (
            f", e.g. {system.url}/v1/products/{report.products[0]['id']}" if report.products else ""
        )
        users = "\n".join(f"  {role:<7} {email}" for role, email in DEMO_USERS.items())
        print(
            f"\nCatalog API    {system.url}   (stage {system.stage})\n"
            f"OpenAPI        {system.url}/v1/openapi.json\n"
            f"Docs           {system.url}/v1/docs\n"
            f"Health         {system.url}/v1/health\n"
            f"Embedded AWS   {system.aws_url}   (moto: DynamoDB, Cognito, S3, SNS, SQS, SES...)\n"
            f"Migrations     {len(migrated.applied)} applied (`make migrate` / `catalog migrate`)\n"
            f"Seeded         {report.summary()}{example}\n"
            f"Routes\n{describe(system.gateway)}\n\n"
            f"Demo users (password from CATALOG_DEMO_PASSWORD, here {password!r}):\n{users}\n"
            f"Log in:  curl -s -X POST {system.url}/v1/auth/login "
            "-H 'Content-Type: application/json' "
            f'-d \'{{"email": "editor@example.com", "password": "{password}"}}\'\n\n'
            "Emails the catalog sends (product published, price drop) are printed here.\n"
            "Data lives in memory and is seeded anew on each start. Ctrl-C stops.\n",
            flush=True,
        )
        threading.Thread(target=print_emails, args=(system.region, stopping), daemon=True).start()
        # Wake up now and then: the kernel may deliver Ctrl-C to any thread, and Python runs
        # the handler only when the main thread runs again (a bare wait() could sleep on).
        while not stopping.wait(timeout=0.5):
            pass
    finally:
        print("stopping...", flush=True)
        system.stop()
    return 0


def seed_and_open(system: LocalSystem) -> SeedReport:
    """Seed the demo data as the demo admin and editor, then let health answer 200."""
    password = demo_password()
    report = seed(
        system.url,
        login(system.url, DEMO_USERS["admin"], password),
        login(system.url, DEMO_USERS["editor"], password),
    )
    system.mark_ready()
    return report


def print_emails(region: str, stopping: threading.Event) -> None:
    """Print each email sent through the embedded SES, as it is sent (the local mailbox)."""
    shown = 0
    while not stopping.wait(1.0):
        emails = sent_emails(region)
        for email in emails[shown:]:
            print(format_email(email), flush=True)
        shown = len(emails)


if __name__ == "__main__":
    sys.exit(main())
