"""Bodies drawn from the document's request schemas, sent to the local stack: the schema's
word is the API's. A body the schema allows is never refused for its form (no 422 from
validation, no 400), and every answer is one the document describes.

What a schema cannot know is refused with a documented problem of its own type, listed in
DOMAIN_RULES with the reason.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings, strategies as st

from infra import topology
from tests.contract import conformance_errors, document
from tests.e2e.test_contract import Target
from tests.schema_strategies import body, from_schema

pytestmark = pytest.mark.xdist_group("contract")
RUNS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Field error types a body valid by its schema may still get, and why.
DOMAIN_RULES = {
    "refused_url": "a webhook host must resolve to public addresses (nothing resolves offline)",
    "unknown": "a category named (a parent, a subscription) must exist",
    "parent": "a category cannot be its own ancestor",
    "combination": "an export's filters must fit together as GET /v1/products' do: "
    "max_price not below min_price, a search with a letter or digit",
}
# The products function is tested in-process (tests/unit/test_openapi_constraints.py).
ROUTES = [
    route
    for route in topology.ROUTES
    if route.method in ("POST", "PUT", "PATCH")
    and "requestBody" in document["paths"][route.path][route.method.lower()]
    and route.function != "products"
]


def _schema(route: topology.Route) -> dict[str, Any]:
    operation = document["paths"][route.path][route.method.lower()]
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
def test_a_body_the_schema_allows_is_never_refused_for_its_form(
    local_system: Any, route: topology.Route
) -> None:
    target = Target(local_system.url)
    path, caller = target.path_and_caller(route)

    @RUNS
    @given(value=from_schema(_schema(route)), fresh=st.just(None))
    def check(value: Any, fresh: None) -> None:
        # When a body drawn from the operation's documented schema is sent
        response = requests.request(
            route.method,
            local_system.url + path,
            data=body(value).encode(),
            headers={"Content-Type": "application/json", **(caller.headers if caller else {})},
            timeout=30,
        )
        # Then the document describes the answer
        errors = conformance_errors(
            route.method,
            route.path,
            response.status_code,
            response.headers.get("Content-Type"),
            response.text,
        )
        assert not errors, errors
        # And it is not a refusal of the body's form: neither 400 nor a field error of the
        # schema's kind (only the domain rules above)
        assert response.status_code != 400 or route.operation in ("confirm", "reset_password")
        assert response.status_code < 500, response.text
        if response.status_code == 422:
            kinds = {error["type"] for error in json.loads(response.text)["errors"]}
            assert kinds <= set(DOMAIN_RULES), response.text

    try:
        check()
    finally:
        target.clean_up()
