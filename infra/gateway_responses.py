"""What API Gateway itself answers (no function involved), as problem+json.

The CDK stack installs these as gateway responses; the local gateway answers the same.
"""

from __future__ import annotations

from catalog.core.errors import (
    BadGateway,
    CatalogError,
    Forbidden,
    GatewayTimeout,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
)
from catalog.http.problems import problem

# API Gateway response type -> the problem it answers with.
GATEWAY_RESPONSES: dict[str, CatalogError] = {
    # API Gateway says 403 "Missing Authentication Token" for unknown paths: we say 404.
    "MISSING_AUTHENTICATION_TOKEN": NotFound("No resource matches this path."),
    # The Cognito authorizer refused the token (absent, malformed, bad signature, expired).
    "UNAUTHORIZED": Unauthorized("Sign in and send 'Authorization: Bearer <access token>'."),
    "ACCESS_DENIED": Forbidden("Your credentials do not allow this."),
    "REQUEST_TOO_LARGE": PayloadTooLarge("The request is larger than API Gateway accepts."),
    "THROTTLED": TooManyRequests("Too many requests; slow down and retry later."),
    "DEFAULT_5XX": BadGateway("The service failed to answer; try again later."),
    "INTEGRATION_FAILURE": BadGateway("The service failed to answer; try again later."),
    "INTEGRATION_TIMEOUT": GatewayTimeout("The service took too long to answer."),
}


# Headers API Gateway adds to its own responses (functions add theirs: catalog.http.pipeline).
HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def headers(response_type: str) -> dict[str, str]:
    """The headers of one gateway response: the problem's media type, the gateway's own,
    and the problem's (401s name the auth scheme, as RFC 9110 asks). In this order: the
    stack's API deployment id is a hash of them, order included."""
    error = GATEWAY_RESPONSES[response_type]
    content_type = str(problem(error).headers["Content-Type"])
    return {"Content-Type": content_type, **HEADERS, **error.headers()}


def body(response_type: str) -> str:
    """The problem document, rendered as the functions render theirs."""
    return str(problem(GATEWAY_RESPONSES[response_type]).body)
