"""Products API: HTTP routes of /v1/products over `catalog.products`."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.metrics import MetricUnit

from catalog.core.http import JSON, api_handler, caller, location, make_resolver, signed_in
from catalog.core.observability import metrics
from catalog.core.openapi import problems
from catalog.products.repository import ProductRepository
from catalog.products.schemas import Product, ProductCreate, ProductPage, ProductPatch
from catalog.products.service import ProductService
from infra.topology import routes_of

app = make_resolver()
service = ProductService(ProductRepository())
TAGS = ["products"]


@app.get("/v1/products", tags=TAGS, responses=problems(400, 422))
def list_products(
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 20,
    cursor: Annotated[str | None, Query(max_length=1024, description="From next_cursor")] = None,
) -> ProductPage:
    """List products, newest first."""
    return service.list(limit, cursor)


@app.post("/v1/products", tags=TAGS, responses=problems(400, 401, 403, 409, 413, 415, 422))
def create_product(body: Annotated[ProductCreate, Body()]) -> Response[Product]:
    """Create a product owned by the caller (editor or admin); 201 with its `Location`."""
    product = service.create(body, signed_in(app))
    metrics.add_metric(name="ProductCreated", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=201,
        content_type=JSON,
        body=product,
        headers={"Location": location(app, f"/v1/products/{product.id}")},
    )


@app.get("/v1/products/<id>", tags=TAGS, responses=problems(404))
def get_product(id: str) -> Product:
    """One product: active ones to anyone; drafts and archived ones to their owner and admins."""
    return service.get(id, caller(app))


@app.patch(
    "/v1/products/<id>", tags=TAGS, responses=problems(400, 401, 403, 404, 409, 413, 415, 422)
)
def update_product(id: str, body: Annotated[ProductPatch, Body()]) -> Product:
    """Change some fields of a product (its owner or an admin); absent fields are kept."""
    product = service.update(id, body, signed_in(app))
    metrics.add_metric(name="ProductUpdated", unit=MetricUnit.Count, value=1)
    return product


@app.delete("/v1/products/<id>", tags=TAGS, responses=problems(401, 403, 404, 409))
def delete_product(id: str) -> Response[None]:
    """Delete a product and release its SKU (its owner or an admin)."""
    service.delete(id, signed_in(app))
    metrics.add_metric(name="ProductDeleted", unit=MetricUnit.Count, value=1)
    return Response(status_code=204, body=None)


lambda_handler = api_handler(app, routes_of("products"))
