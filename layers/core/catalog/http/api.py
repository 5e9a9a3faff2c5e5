"""One API function's resolver: its routes bound from the topology, its entry point built.

    app = Api.of("products", tags=["products"])

    @app.operation(responses=...)
    def get_product(id: str) -> Response[str]: ...

    lambda_handler = catalog.runtime.ready(app.handler())

`operation` binds the decorated function to the route whose `operation` names it
(catalog.http.routes): the handler never restates a method or a path. `handler()` refuses a
route left unbound and wraps the resolver in the request pipeline (catalog.http.pipeline)
and observability; `catalog.runtime.ready` then ends the function's init.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Query

from catalog.core.cursor import MAX_CURSOR_LENGTH
from catalog.core.errors import CatalogError, NotFound, Unauthorized, UnsupportedMediaType
from catalog.core.failures import log_unexpected
from catalog.core.jsonutil import dumps, loads_request
from catalog.core.observability import Handler, instrument_api, logger
from catalog.http.pipeline import JSON as JSON, Pipeline
from catalog.http.problems import internal_error, problem, validation_problem
from catalog.http.routes import Route, routes_of
from catalog.identity.principal import Principal

Operation = TypeVar("Operation", bound=Callable[..., Any])

# The `cursor` parameter of every paged listing (the OpenAPI document adds its pattern:
# infra/openapi.py); a cursor that does not decode is a 400 invalid-cursor (core/cursor.py).
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH, description="From next_cursor")]


class Api(APIGatewayRestResolver):
    """A REST resolver with validation, strict JSON, the one error mapping, and its routes."""

    def __init__(self, routes: Iterable[Route], tags: list[str] | None = None) -> None:
        super().__init__(
            enable_validation=True,
            # A response breaking its own schema is our fault: raise it as such (-> 500).
            response_validation_error_http_code=500,
            serializer=dumps,
            json_body_deserializer=loads_request,
        )
        self.routes = tuple(routes)
        self.tags = tags
        self._unbound = {route.operation: route for route in self.routes}
        self.exception_handler(CatalogError)(problem)
        self.exception_handler(RequestUnsupportedContentType)(_unsupported_media_type)
        self.exception_handler(ResponseValidationError)(_broken_response)
        self.exception_handler(RequestValidationError)(_invalid_request)
        self.exception_handler(Exception)(self._unexpected)
        self.not_found(_not_found)

    @classmethod
    def of(cls, function: str, tags: list[str] | None = None) -> Api:
        """The resolver of a topology function, with its routes."""
        return cls(routes_of(function), tags)

    def operation(self, **options: Any) -> Callable[[Operation], Operation]:
        """Serve the route whose operation is the decorated function's name; `options` are
        Powertools' route options (responses, include_in_schema...)."""

        def bind(function: Operation) -> Operation:
            route = self._unbound.pop(function.__name__, None)
            if route is None:
                raise LookupError(
                    f"{function.__name__} is the operation of no unbound route of this "
                    "function (catalog.http.routes)"
                )
            rule = re.sub(r"\{(\w+)\}", r"<\1>", route.path)  # Powertools' path parameters
            options.setdefault("tags", self.tags)
            bound: Operation = self.route(rule, route.method, **options)(function)
            return bound

        return bind

    def _unexpected(self, exc: Exception) -> Response[str]:
        event = self.current_event
        log_unexpected("unhandled error", exc, f"{event.http_method} {event.resource}")
        return problem(internal_error())

    def handler(self) -> Handler:
        """The Lambda entry point, once every route has its operation."""
        if self._unbound:
            raise LookupError(f"routes without an operation: {sorted(self._unbound)}")
        return instrument_api(Pipeline(self, self.routes))

    # --- what routes read of the request ---------------------------------------------------

    def caller(self) -> Principal | None:
        """The principal of the request being served (None: anonymous)."""
        principal: Principal | None = self.context.get("principal")
        return principal

    def signed_in(self) -> Principal:
        """The caller of a route whose access rule requires signing in."""
        principal = self.caller()
        if principal is None:  # the access rules make this unreachable; fail closed anyway
            raise Unauthorized("Sign in first.")
        return principal

    def location(self, resource_path: str) -> str:
        """`resource_path` as the client must call it: behind a stage or base path if any.

        API Gateway's `path` omits the stage (`/v1/...`) while `requestContext.path` is what
        the client called (`/prod/v1/...` on the default endpoint, `/v1/...` on a domain),
        except through the edge cache: CloudFront maps its root onto the stage path, so
        there the client called `/v1/...` (a client sending the header itself only changes
        its own answer's Location).
        """
        event = self.current_event
        if event.headers.get(EDGE_HEADER) is not None:
            return resource_path
        called = str(event.request_context.path or "")
        path = event.path
        prefix = called[: -len(path)] if path and called.endswith(path) else ""
        return prefix + resource_path


# The header the edge cache (infra/stack/cdn.py) adds to every request it forwards.
EDGE_HEADER = "X-Catalog-Edge"


def _unsupported_media_type(exc: RequestUnsupportedContentType) -> Response[str]:
    return problem(UnsupportedMediaType(f"Send the body as {JSON}."))


def _broken_response(exc: ResponseValidationError) -> Response[str]:
    # Our own answer broke its declared schema: a server fault, never the client's.
    logger.error("response failed its schema", extra={"errors": exc.errors()})
    return problem(internal_error())


def _invalid_request(exc: RequestValidationError) -> Response[str]:
    return problem(validation_problem(exc))


def _not_found(exc: Exception) -> Response[str]:
    return problem(NotFound("No resource matches this path."))
