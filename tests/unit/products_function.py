"""The products function in-process (its handler file, as Lambda loads it) over in-memory
stores (products, access records), called with API Gateway proxy events as an editor the
authorizer let in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest

from catalog.core import settings
from catalog.http import pipeline
from catalog.identity.revocation import RevocationCheck
from catalog.products.service import ProductService
from tests.fakes import InMemoryProductStore, MemoryRecords
from tests.unit.handlers import load_handler

CLIENT_ID = "strict-input-tests"
EDITOR_CLAIMS = {
    "token_use": "access",
    "client_id": CLIENT_ID,
    "scope": "aws.cognito.signin.user.admin",
    "sub": "editor-sub",
    "cognito:groups": "editor",
    "iat": "1700000000",  # API Gateway passes every claim as a string
}


class Context:
    function_name = "products"
    memory_limit_in_mb = 256
    aws_request_id = "strict-input"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:products"


class ProductsFunction:
    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.store = InMemoryProductStore()
        module.service = ProductService(self.store)  # type: ignore[attr-defined]

    def call(
        self,
        method: str,
        path: str,
        *,
        resource: str | None = None,
        body: str | None = None,
        query: dict[str, str] | None = None,
        path_parameters: dict[str, str] | None = None,
        multi_query: dict[str, list[str]] | None = None,
    ) -> tuple[int, dict[str, Any], str]:
        """(status, single-value headers, body) of one request; `multi_query` for a
        parameter sent several times (API Gateway's single-value map holds the last)."""
        if multi_query is not None:
            query = {name: values[-1] for name, values in multi_query.items()}
        event = {
            "httpMethod": method,
            "path": path,
            "resource": resource or path,
            "headers": {"content-type": "application/json"} if body is not None else {},
            "body": body,
            "isBase64Encoded": False,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query
            or ({k: [v] for k, v in query.items()} if query else None),
            "pathParameters": path_parameters,
            "requestContext": {
                "requestId": "strict-input",
                "path": path,
                "stage": "test",
                "authorizer": {"claims": EDITOR_CLAIMS},
            },
        }
        response: dict[str, Any] = self.module.lambda_handler(event, Context())
        headers = {k: v[0] for k, v in response.get("multiValueHeaders", {}).items()}
        return response["statusCode"], headers, response["body"]

    def create(self, body: str) -> tuple[int, dict[str, Any]]:
        """POST /v1/products with `body` as sent: its status and its JSON answer."""
        status, headers, text = self.call("POST", "/v1/products", body=body)
        if status >= 400:
            assert headers["Content-Type"] == "application/problem+json"
        answer: dict[str, Any] = json.loads(text)
        return status, answer


@contextmanager
def products_function() -> Iterator[ProductsFunction]:
    """The function loaded once from functions/products/handler.py, with its own store."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COGNITO_CLIENT_ID", CLIENT_ID)
        access = RevocationCheck(MemoryRecords())
        patch.setattr(pipeline, "revocations", lambda: access)
        settings.settings.cache_clear()
        module = load_handler("products", "_products_handler_strict_input")
        try:
            yield ProductsFunction(module)
        finally:
            settings.settings.cache_clear()
