"""Chalice twin of GET /v1/products/{id} and POST /v1/products (see twin_store)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import twin_store
from chalice import (
    BadRequestError,
    Chalice,
    ConflictError,
    NotFoundError,
    Response,
    UnauthorizedError,
)
from pydantic import ValidationError

from catalog.products.schemas import ProductCreate

app = Chalice(app_name="catalog-twin")


def _json(data: Any, status: int = 200) -> Response:
    return Response(
        body=json.dumps(data), status_code=status, headers={"Content-Type": "application/json"}
    )


@app.route("/v1/products/{id}", methods=["GET"])
def get_product(id: str) -> Response:
    try:
        product = twin_store.store.get(id)
    except twin_store.NotFound:
        raise NotFoundError("No such product.") from None
    return _json(product.model_dump(mode="json"))


@app.route("/v1/products", methods=["POST"], content_types=["application/json"])
def create_product() -> Response:
    request = app.current_request
    owner = twin_store.owner_of(request.to_original_event())
    if owner is None:
        raise UnauthorizedError("Sign in first.")
    try:
        body = ProductCreate.model_validate(json.loads(request.raw_body, parse_float=Decimal))
    except ValueError as error:  # pydantic's ValidationError, or JSON that does not parse
        if not isinstance(error, ValidationError):
            raise BadRequestError("The body is not JSON.") from None
        return _json({"errors": error.errors(include_input=False, include_url=False)}, 422)
    product = twin_store.new_product(body, owner)
    try:
        twin_store.store.create(product)
    except twin_store.Conflict:
        raise ConflictError("SKU taken or no such category.") from None
    return _json(product.model_dump(mode="json"), 201)


lambda_handler = app
