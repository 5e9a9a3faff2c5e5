"""The local mailbox: emails the functions sent through the embedded SES (moto).

moto keeps sent messages in its in-process backend; `make run` prints them as they
arrive, and tests read them here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ACCOUNT = "123456789012"  # moto's default account


@dataclass(frozen=True)
class SentEmail:
    source: str
    to: tuple[str, ...]
    subject: str
    body: str


def sent_emails(region: str) -> list[SentEmail]:
    from moto.ses.models import ses_backends

    backend: Any = ses_backends[ACCOUNT][region]
    emails = []
    for message in list(backend.sent_messages):
        to = tuple(message.destinations.get("ToAddresses", []))
        emails.append(SentEmail(message.source, to, message.subject, message.body))
    return emails


def format_email(email: SentEmail) -> str:
    return (
        f"--- email to {', '.join(email.to)} (from {email.source})\n"
        f"Subject: {email.subject}\n\n{email.body.rstrip()}\n---"
    )
