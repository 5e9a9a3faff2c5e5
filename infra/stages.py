"""Per-stage settings read by both the CDK app and the local runner."""

from __future__ import annotations

from dataclasses import dataclass

from infra.topology import Queue


@dataclass(frozen=True)
class RestoredTable:
    """A table restored from a point in time or a backup (`catalog restore`; README, "Backups
    and restore") that a stage uses instead of the one its stack created."""

    table: str  # the topology's name of the table it replaces ("products", "users"...)
    name: str  # the restored table's name
    stream_arn: str | None = None  # its stream, where the topology gives the table one


@dataclass(frozen=True)
class Stage:
    name: str
    log_level: str = "INFO"
    log_retention_days: int = 30
    cors_allow_origins: tuple[str, ...] = ("*",)
    hsts_max_age: int = 63072000
    throttle_rate: int = 50  # steady requests per second across the API
    throttle_burst: int = 100
    # WAF rate-based rules: requests per client IP per 5 minutes, to anything and to the auth
    # routes; and how many blocked requests in 5 minutes raise the alarm.
    waf_rate_limit: int = 2000
    waf_auth_rate_limit: int = 100
    waf_blocked_alarm: int = 100
    # CloudFront in front of the API, caching anonymous public GETs by their Cache-Control
    # (infra/stack/cdn.py); clients may use its URL (CdnUrl) or the API's.
    edge_cache: bool = False
    # Who hears the alarms: an email address subscribed to the stage's ops topic (None: set a
    # subscription yourself, e.g. a pager or chat integration on the topic).
    ops_email: str | None = None
    # The share of the API's answers that are 5XX (0.01: 1%) which, in any 5 minutes,
    # raises an alarm. While traffic is light that is a single failure; at volume, an
    # occasional one does not wake anybody.
    api_5xx_alarm_rate: float = 0.01
    # The API's p99 latency (ms) that, for 15 minutes, raises an alarm.
    api_p99_alarm_ms: int = 2000
    retain_data: bool = True  # keep tables when the stack is deleted
    # AWS Backup of every table (infra/stack/backups.py): how many days each daily and each
    # monthly recovery point is kept; None: no backup plan (point-in-time recovery, always
    # on, still covers the last 35 days). Where `retain_data` holds, the vault is kept when
    # the stack is deleted and nobody may delete its recovery points early.
    backup_daily_retention_days: int | None = None
    backup_monthly_retention_days: int | None = None
    # Tables this stage uses in place of those its stack made (after a restore). The stack
    # stops managing the replaced table: kept where `retain_data` holds, deleted elsewhere.
    restored_tables: tuple[RestoredTable, ...] = ()
    # Lambda SnapStart on the API functions (published versions behind an alias; README,
    # "Cold start in the cloud"): their init runs once per version, at deploy, not per cold
    # start; each new environment resumes from its snapshot.
    snapstart: bool = False
    # Sign-ups are confirmed without an emailed code: only where nobody real signs up.
    auto_confirm_users: bool = False
    # Revoked access (sign-out, disabling, demotion) takes effect everywhere within this many
    # seconds: each function instance re-reads a caller's access record after it.
    access_cache_s: int = 5
    # Cognito threat protection (the Plus feature plan) where its cost is warranted.
    threat_protection: bool = False
    # Event plumbing: a shorter visibility timeout for every queue than the topology's
    # (only where no real consumer runs for long: the local runner and its tests), so that
    # retries and redrive to the dead-letter queue happen in seconds, by the same rules.
    queue_visibility_timeout_s: int | None = None
    # Webhooks: the delay before each retry of a failed delivery (attempt n waits the nth;
    # the queue's max_receives ends it in the DLQ), and how long a receiver may take.
    webhook_retry_delays_s: tuple[int, ...] = (30, 120, 600, 1800, 3600, 7200, 14400)
    webhook_timeout_s: int = 5
    # Deliver to http:// and loopback receivers (the local runner's tests run one). Never in
    # the cloud: there, only https URLs resolving to public addresses are accepted (SSRF).
    webhook_allow_local_urls: bool = False
    # Sender of notification emails (an identity verified in SES).
    email_sender: str = "catalog@example.com"
    # How long an AWS request may wait between bytes; 0: catalog.core.aws's (2 s for
    # DynamoDB, 5 s for the rest).
    aws_read_timeout_s: int = 0

    def restored_table(self, table: str) -> RestoredTable | None:
        """The restored table this stage uses as the topology's `table`, if any."""
        return next((r for r in self.restored_tables if r.table == table), None)

    def visibility_timeout_s(self, queue: Queue) -> int:
        """How long a received message of `queue` stays hidden in this stage."""
        return self.queue_visibility_timeout_s or queue.visibility_timeout_s

    def function_settings(self) -> dict[str, str]:
        """The settings every function of this stage gets as environment variables."""
        return {
            "LOG_LEVEL": self.log_level,
            "CORS_ALLOW_ORIGINS": ",".join(self.cors_allow_origins),
            "HSTS_MAX_AGE": str(self.hsts_max_age),
            "AUTO_CONFIRM_USERS": "true" if self.auto_confirm_users else "false",
            "ACCESS_CACHE_S": str(self.access_cache_s),
            **self.notification_settings(),
            "CATALOG_AWS_READ_TIMEOUT_S": str(self.aws_read_timeout_s),
        }

    def notification_settings(self) -> dict[str, str]:
        return {
            "WEBHOOK_RETRY_DELAYS": ",".join(str(d) for d in self.webhook_retry_delays_s),
            "WEBHOOK_TIMEOUT_S": str(self.webhook_timeout_s),
            "WEBHOOK_ALLOW_LOCAL_URLS": "true" if self.webhook_allow_local_urls else "false",
            "EMAIL_SENDER": self.email_sender,
        }


STAGES: dict[str, Stage] = {
    "local": Stage(
        "local",
        log_retention_days=1,
        retain_data=False,
        auto_confirm_users=True,
        # Tests wait for revocations to take effect: a second, not five.
        access_cache_s=1,
        queue_visibility_timeout_s=2,
        webhook_retry_delays_s=(1, 1, 1, 2, 2, 2, 2),
        webhook_timeout_s=2,
        webhook_allow_local_urls=True,
        # moto copies a table for every transaction: on a loaded laptop a write can take
        # seconds, which the cloud's 2 s would abandon and retry.
        aws_read_timeout_s=30,
    ),
    "dev": Stage(
        "dev",
        log_level="DEBUG",
        log_retention_days=14,
        retain_data=False,
        auto_confirm_users=True,
        # On as in prod: the deploy pipeline's smoke test runs against dev first, so the
        # path through the cache (and the WAF's view of it) is proven before prod has it.
        edge_cache=True,
    ),
    "prod": Stage(
        "prod",
        log_retention_days=365,
        cors_allow_origins=("https://shop.example.com",),
        throttle_rate=200,
        throttle_burst=400,
        waf_rate_limit=5000,
        threat_protection=True,
        edge_cache=True,
        backup_daily_retention_days=35,
        backup_monthly_retention_days=365,
        snapstart=True,
    ),
}


def stage(name: str) -> Stage:
    try:
        return STAGES[name]
    except KeyError:
        raise SystemExit(f"unknown stage {name!r}; known: {', '.join(STAGES)}") from None
