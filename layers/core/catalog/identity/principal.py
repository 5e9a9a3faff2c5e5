"""Who is calling: verified Cognito access tokens and authorizer claims -> a `Principal`.

On protected routes API Gateway's Cognito authorizer has verified the token and passes its
claims; the function re-checks what the authorizer does not (token use, app client, scope)
and the role. On public routes there is no authorizer, so a bearer token, when sent, is
verified here (signature against the pool's JWKS, issuer, expiry) before it counts.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from catalog.core.errors import Unauthorized
from catalog.core.settings import settings
from catalog.identity.access import role_of

if TYPE_CHECKING:
    from catalog.identity.tokens import KeySet


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the Cognito `sub` and the strongest role among its groups,
    and when its token was issued (`iat`, whole seconds; 0 when not known)."""

    sub: str
    role: str
    issued_at: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def groups_from_claim(value: Any) -> list[str]:
    """`cognito:groups` as API Gateway passes it: a list, "a,b" (REST) or "[a b]" (HTTP API)."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [part for part in text.replace(",", " ").split() if part]


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """Check the claims of an access token issued to this API's app client."""
    config = settings()
    if claims.get("token_use") != "access":
        raise Unauthorized("Send an access token.")
    if not config.cognito_client_id or claims.get("client_id") != config.cognito_client_id:
        raise Unauthorized("The token was issued to another application.")
    if config.cognito_access_scope not in str(claims.get("scope", "")).split():
        raise Unauthorized("The token lacks the required scope.")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unauthorized("The token names no user.")
    return Principal(
        sub=sub,
        role=role_of(groups_from_claim(claims.get("cognito:groups"))),
        issued_at=_issued_at(claims.get("iat")),
    )


def _issued_at(value: Any) -> int:
    """`iat` as API Gateway passes claims (a string) or as a verified token holds it."""
    try:
        return int(str(value))
    except ValueError:
        raise Unauthorized("The token is invalid or has expired.") from None


def bearer_token(headers: Mapping[str, Any] | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None when there is no header."""
    for name, value in (headers or {}).items():
        if name.lower() == "authorization":
            scheme, _, token = str(value).strip().partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("Use the Authorization header as 'Bearer <access token>'.")
            return token.strip()
    return None


@cache
def _key_set() -> KeySet:
    from catalog.identity.tokens import KeySet

    return KeySet(settings().cognito_jwks_url)


def verify_access_token(token: str) -> dict[str, Any]:
    """Verify a token as API Gateway's Cognito authorizer does (`verify_signed_token`),
    then the access-token checks of `principal_from_claims`."""
    claims = verify_signed_token(token)
    principal_from_claims(claims)
    return claims


def verify_signed_token(token: str) -> dict[str, Any]:
    """What API Gateway's Cognito authorizer checks: an RS256 signature by one of the
    pool's keys, the pool's issuer, an expiry in the future, and the required scope."""
    from jwt import InvalidTokenError  # only requests that carry a token pay for these imports

    from catalog.identity.tokens import verified_payload

    config = settings()
    try:
        claims = verified_payload(token, _key_set())
    except InvalidTokenError:
        raise Unauthorized("The token is invalid or has expired.") from None
    _check_registered_claims(claims, config.cognito_issuer)
    if config.cognito_access_scope not in str(claims.get("scope", "")).split():
        raise Unauthorized("The token lacks the required scope.")
    return claims


REQUIRED_CLAIMS = ("exp", "iat", "iss", "sub", "token_use")


def _check_registered_claims(claims: Mapping[str, Any], issuer: str) -> None:
    """RFC 7519's time and issuer claims, as the authorizer checks them (no leeway)."""
    now = time.time()
    if any(name not in claims for name in REQUIRED_CLAIMS):
        raise Unauthorized("The token is invalid or has expired.")
    exp, iat, nbf = claims["exp"], claims["iat"], claims.get("nbf", 0)
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (exp, iat, nbf))
    if not numbers or exp <= now or iat > now or nbf > now:
        raise Unauthorized("The token is invalid or has expired.")
    if not issuer or claims["iss"] != issuer:
        raise Unauthorized("The token is invalid or has expired.")
