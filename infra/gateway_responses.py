"""What API Gateway itself answers (no function involved), as problem+json, with the
security and CORS headers the functions send.

The CDK stack installs every response type (API Gateway's default bodies never reach a
client); the local gateway answers the same, headers included.

Each type keeps API Gateway's status for it, except where noted: setting DEFAULT_4XX's or
DEFAULT_5XX's status would change every type that has no response of its own, so every
type has one, and the two defaults only catch types AWS adds later.

CORS: gateway responses take static values or request mappings, not a membership test,
so `Access-Control-Allow-Origin` is:
- `*` when the stage allows every origin, and the origin itself when it allows one
  (static, on every answer: harmless to a request that sent no Origin);
- the request's Origin, echoed (`method.request.header.Origin`), when it allows several.
  That lets any origin read these answers, not only the listed ones. Acceptable here, and
  only here: the documents are static and the same for every caller (no data, no
  identity), and no gateway answer or function answer sends
  `Access-Control-Allow-Credentials` (tokens are bearer headers, never cookies), so a
  browser never shares a credentialed answer whatever the origin header says; `Vary:
  Origin` and `no-store` keep caches from handing one origin's copy to another. A function
  answer, which carries data, names only a listed origin (catalog.http.pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.core.errors import (
    BadGateway,
    BadRequest,
    CatalogError,
    Forbidden,
    GatewayTimeout,
    InternalError,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from catalog.http.pipeline import CORS_EXPOSE_HEADERS
from catalog.http.problems import problem
from infra.stages import Stage

_RETRY = "The service failed to answer; try again later."
_OURS = "The server failed to handle this request; it has been logged."

# API Gateway response type -> the problem it answers with. The details are VTL templates
# in the stack: never a `$` or `#` in them.
GATEWAY_RESPONSES: dict[str, CatalogError] = {
    # API Gateway says 403 "Missing Authentication Token" for unknown paths: we say 404.
    "MISSING_AUTHENTICATION_TOKEN": NotFound("No resource matches this path."),
    # The Cognito authorizer refused the token (absent, malformed, bad signature, expired).
    "UNAUTHORIZED": Unauthorized("Sign in and send 'Authorization: Bearer <access token>'."),
    "ACCESS_DENIED": Forbidden("Your credentials do not allow this."),
    "REQUEST_TOO_LARGE": PayloadTooLarge("The request is larger than API Gateway accepts."),
    # A method's bucket gains a token every 1/rate seconds: at most a second at any rate >= 1.
    "THROTTLED": TooManyRequests("Too many requests; slow down and retry later.", 1),
    "DEFAULT_5XX": BadGateway(_RETRY),
    # 502, not API Gateway's 504: the function failed, it did not time out.
    "INTEGRATION_FAILURE": BadGateway(_RETRY),
    "INTEGRATION_TIMEOUT": GatewayTimeout("The service took too long to answer."),
    # Any other 4XX: only types AWS adds later (each type below has its own response).
    "DEFAULT_4XX": BadRequest("The request was refused."),
    "RESOURCE_NOT_FOUND": NotFound("No resource matches this path."),
    "UNSUPPORTED_MEDIA_TYPE": UnsupportedMediaType("This media type is not accepted here."),
    # Request validators, API keys, usage plans and IAM signatures: none used yet, but each
    # would otherwise fall back to DEFAULT_4XX and its 400. WAF_FILTERED is the web ACL's
    # managed-rule blocks (infra/stack/edge.py; its rate rules answer with their own 429).
    "BAD_REQUEST_BODY": BadRequest("The request body is invalid."),
    "BAD_REQUEST_PARAMETERS": BadRequest("The request parameters are invalid."),
    "QUOTA_EXCEEDED": TooManyRequests("The usage quota is used up; retry later."),
    "INVALID_API_KEY": Forbidden("Your credentials do not allow this."),
    "INVALID_SIGNATURE": Forbidden("Your credentials do not allow this."),
    "EXPIRED_TOKEN": Forbidden("Your credentials have expired."),
    "WAF_FILTERED": Forbidden("The request was refused."),
    # The API's own faults: 500, as API Gateway says; a client can only retry later.
    "API_CONFIGURATION_ERROR": InternalError(_OURS),
    "AUTHORIZER_CONFIGURATION_ERROR": InternalError(_OURS),
    "AUTHORIZER_FAILURE": InternalError(_OURS),
}


# What the WAF's rate rules answer (infra/stack/edge.py): a WAF custom response, not a
# gateway response, built from the same parts. A rate-based rule blocks an address until its
# rate over the last 5 minutes falls below the limit, which WAF re-evaluates every minute or so.
WAF_RATE_LIMITED = TooManyRequests(
    "Too many requests from your address; slow down and retry later.", 60
)


@dataclass(frozen=True)
class FromRequest:
    """A header value copied from the request's `header` (API Gateway's
    `method.request.header.<name>`); absent when the request has no such header."""

    header: str


HeaderValue = str | FromRequest

# The functions' security headers (catalog.http.pipeline), but HSTS, whose max-age is the
# stage's. Header order is part of the stack's API deployment id (a hash): keep it stable.
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}

# Every stage's settings unless it sets its own (dev's, today).
DEFAULT_STAGE = Stage("default")


def security_headers(stage: Stage) -> dict[str, str]:
    return {
        "Strict-Transport-Security": f"max-age={stage.hsts_max_age}; includeSubDomains",
        **HEADERS,
    }


def cors_headers(stage: Stage) -> dict[str, HeaderValue]:
    """Who may read a gateway answer cross-origin (see the module's notes)."""
    origins = stage.cors_allow_origins
    if not origins:
        return {}
    allow: HeaderValue
    if "*" in origins:
        allow = "*"
    elif len(origins) == 1:
        allow = origins[0]
    else:
        allow = FromRequest("Origin")
    return {
        "Access-Control-Allow-Origin": allow,
        "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS,
        "Vary": "Origin",
    }


def headers(response_type: str, stage: Stage = DEFAULT_STAGE) -> dict[str, HeaderValue]:
    """The headers of one gateway response: the problem's media type, the stage's security
    and CORS headers, and the problem's own (401s name the auth scheme, as RFC 9110 asks)."""
    return _headers(GATEWAY_RESPONSES[response_type], stage)


def _headers(error: CatalogError, stage: Stage) -> dict[str, HeaderValue]:
    content_type = str(problem(error).headers["Content-Type"])
    return {
        "Content-Type": content_type,
        **security_headers(stage),
        **cors_headers(stage),
        **error.headers(),
    }


def static_headers(error: CatalogError, stage: Stage) -> dict[str, str]:
    """`error`'s headers where only static values are possible (WAF custom responses): an
    Origin echo is left out, so a stage allowing several origins gets no CORS header there."""
    return {k: v for k, v in _headers(error, stage).items() if isinstance(v, str)}


def body(response_type: str) -> str:
    """The problem document, rendered as the functions render theirs."""
    return str(problem(GATEWAY_RESPONSES[response_type]).body)
