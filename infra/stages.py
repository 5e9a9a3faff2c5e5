"""Per-stage settings read by both the CDK app and the local runner."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str
    log_level: str = "INFO"
    log_retention_days: int = 30
    cors_allow_origins: tuple[str, ...] = ("*",)
    hsts_max_age: int = 63072000
    throttle_rate: int = 50  # steady requests per second across the API
    throttle_burst: int = 100
    retain_data: bool = True  # keep tables when the stack is deleted
    # Sign-ups are confirmed without an emailed code: only where nobody real signs up.
    auto_confirm_users: bool = False
    # Cognito threat protection (the Plus feature plan) where its cost is warranted.
    threat_protection: bool = False

    def function_settings(self) -> dict[str, str]:
        """The settings every function of this stage gets as environment variables."""
        return {
            "LOG_LEVEL": self.log_level,
            "CORS_ALLOW_ORIGINS": ",".join(self.cors_allow_origins),
            "HSTS_MAX_AGE": str(self.hsts_max_age),
            "AUTO_CONFIRM_USERS": "true" if self.auto_confirm_users else "false",
        }


STAGES: dict[str, Stage] = {
    "local": Stage("local", log_retention_days=1, retain_data=False, auto_confirm_users=True),
    "dev": Stage(
        "dev",
        log_level="DEBUG",
        log_retention_days=14,
        retain_data=False,
        auto_confirm_users=True,
    ),
    "prod": Stage(
        "prod",
        log_retention_days=365,
        cors_allow_origins=("https://shop.example.com",),
        throttle_rate=200,
        throttle_burst=400,
        threat_protection=True,
    ),
}


def stage(name: str) -> Stage:
    try:
        return STAGES[name]
    except KeyError:
        raise SystemExit(f"unknown stage {name!r}; known: {', '.join(STAGES)}") from None
