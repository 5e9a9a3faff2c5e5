"""Settings read from the environment once, on first use (never at import time)."""

from __future__ import annotations

import os
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache

# The names of the environment variables the function running in this context was given,
# where one process hosts several functions (the local runner sets it for each invocation,
# as the cloud gives each function an environment of its own). None: the process is one
# function (Lambda), whose environment is its own.
FUNCTION_ENVIRONMENT: ContextVar[frozenset[str] | None] = ContextVar(
    "function_environment", default=None
)


def resource(variable: str) -> str:
    """The value of a resource's variable (`TABLE_*`, `BUCKET_*`, `QUEUE_*`, `TOPIC_*`),
    which the topology sets only for the functions it grants the resource to."""
    visible = FUNCTION_ENVIRONMENT.get()
    if visible is None or variable in visible:
        value = os.environ.get(variable)
        if value is not None:
            return value
    raise RuntimeError(f"{variable} is not set")


@dataclass(frozen=True)
class Settings:
    stage: str
    cors_allow_origins: tuple[str, ...]
    hsts_max_age: int
    max_body_bytes: int
    cursor_secret_id: str | None
    cursor_key_fallback: str | None
    cognito_user_pool_id: str
    cognito_client_id: str
    cognito_issuer: str
    cognito_jwks_url: str
    cognito_access_scope: str
    auto_confirm_users: bool
    # How long a function instance trusts an access record it read (catalog.identity.revocation).
    access_cache_s: float = 5.0
    # Where product image renditions are served from (CloudFront; locally the embedded S3).
    images_base_url: str = ""

    def table_name(self, logical: str) -> str:
        """Physical table name for a topology table (`TABLE_<NAME>`, set from the topology)."""
        return resource(f"TABLE_{logical.upper()}")

    def bucket_name(self, logical: str) -> str:
        """Physical bucket name for a topology bucket (`BUCKET_<NAME>`, from the topology)."""
        return resource(f"BUCKET_{logical.upper().replace('-', '_')}")


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@cache
def settings() -> Settings:
    env = os.environ
    return Settings(
        stage=env.get("STAGE", "local"),
        cors_allow_origins=_csv(env.get("CORS_ALLOW_ORIGINS", "*")),
        hsts_max_age=int(env.get("HSTS_MAX_AGE", "63072000")),
        max_body_bytes=int(env.get("MAX_BODY_BYTES", str(1024 * 1024))),
        cursor_secret_id=env.get("CURSOR_SECRET_ID") or None,
        cursor_key_fallback=env.get("CURSOR_SIGNING_KEY") or None,
        cognito_user_pool_id=env.get("COGNITO_USER_POOL_ID", ""),
        cognito_client_id=env.get("COGNITO_CLIENT_ID", ""),
        cognito_issuer=env.get("COGNITO_ISSUER", ""),
        cognito_jwks_url=env.get("COGNITO_JWKS_URL", ""),
        cognito_access_scope=env.get("COGNITO_ACCESS_SCOPE", "aws.cognito.signin.user.admin"),
        auto_confirm_users=env.get("AUTO_CONFIRM_USERS", "false").lower() == "true",
        access_cache_s=float(env.get("ACCESS_CACHE_S", "5")),
        images_base_url=env.get("IMAGES_BASE_URL", ""),
    )
