"""Domain exceptions and their one mapping to RFC 9457 problem details.

Services and repositories raise these; `catalog.http` turns any of them into an
`application/problem+json` response. Each class carries a stable problem `type`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar

PROBLEM_TYPE_PREFIX = "urn:catalog:problem:"
PROBLEM_CONTENT_TYPE = "application/problem+json"


class CatalogError(Exception):
    """Base of every error a client may see. Never put internals in `detail`."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions

    @property
    def type(self) -> str:
        return PROBLEM_TYPE_PREFIX + self.slug

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase

    def headers(self) -> dict[str, str]:
        return {}

    def to_problem(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.extensions,
        }


class BadRequest(CatalogError):
    status = 400
    slug = "bad-request"


class MalformedJson(CatalogError):
    status = 400
    slug = "malformed-json"


class InvalidCursor(CatalogError):
    status = 400
    slug = "invalid-cursor"


class Unauthorized(CatalogError):
    status = 401
    slug = "unauthorized"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="catalog"'}


class Forbidden(CatalogError):
    status = 403
    slug = "forbidden"


class NotFound(CatalogError):
    status = 404
    slug = "not-found"


class MethodNotAllowed(CatalogError):
    status = 405
    slug = "method-not-allowed"

    def __init__(self, detail: str, allowed: list[str]) -> None:
        super().__init__(detail)
        self.allowed = allowed

    def headers(self) -> dict[str, str]:
        return {"Allow": ", ".join(self.allowed)}


class Conflict(CatalogError):
    status = 409
    slug = "conflict"


class DuplicateSku(Conflict):
    slug = "duplicate-sku"


class Gone(CatalogError):
    """410: a deprecated route past its sunset (catalog.http.routes.Deprecation)."""

    status = 410
    slug = "gone"


class PreconditionFailed(CatalogError):
    status = 412
    slug = "precondition-failed"


class PayloadTooLarge(CatalogError):
    status = 413
    slug = "payload-too-large"


class UnsupportedMediaType(CatalogError):
    status = 415
    slug = "unsupported-media-type"


class ValidationFailed(CatalogError):
    """422: the request is well-formed JSON but breaks the rules; `errors` says where."""

    status = 422
    slug = "validation-error"

    def __init__(self, detail: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(detail, errors=errors)


class NotApplied(CatalogError):
    """424: in an all-or-nothing request, this part was fine but another part failed."""

    status = 424
    slug = "not-applied"


class TooManyRequests(CatalogError):
    status = 429
    slug = "too-many-requests"

    def __init__(self, detail: str, retry_after_s: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s  # when a retry may succeed, if that is known

    def headers(self) -> dict[str, str]:
        return {} if self.retry_after_s is None else {"Retry-After": str(self.retry_after_s)}


class InternalError(CatalogError):
    status = 500
    slug = "internal-error"


class ServiceUnavailable(CatalogError):
    status = 503
    slug = "service-unavailable"


class NotReady(ServiceUnavailable):
    """503 while the service is still starting (the local runner, until its demo users and
    data are in place); `Retry-After` says when to ask again."""

    slug = "not-ready"

    def __init__(self, detail: str, retry_after_s: int = 1) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class BadGateway(CatalogError):
    status = 502
    slug = "bad-gateway"


class GatewayTimeout(CatalogError):
    status = 504
    slug = "gateway-timeout"


class VersionConflict(Exception):
    """Internal: the item changed since it was read; the service re-reads and retries.

    Not a `CatalogError`: it never reaches a client as such.
    """


# Every problem type a client can meet, for the docs and the API Gateway responses.
PROBLEM_TYPES: tuple[type[CatalogError], ...] = (
    BadRequest,
    MalformedJson,
    InvalidCursor,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    DuplicateSku,
    Gone,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    NotApplied,
    TooManyRequests,
    InternalError,
    BadGateway,
    ServiceUnavailable,
    NotReady,
    GatewayTimeout,
)
