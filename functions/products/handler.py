"""Products API: HTTP routes of /v1/products over `catalog.products`."""

from __future__ import annotations

import catalog.runtime  # the function's init starts here (catalog/runtime.py)

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import StringConstraints

from catalog.core import business_metrics as names
from catalog.core.observability import metrics
from catalog.http.api import JSON, Api, Cursor
from catalog.http.conditional import etag, if_match_versions, none_match
from catalog.http.idempotency import once_per_key
from catalog.http.responses import empty, problems, returns
from catalog.products.batch import BatchService
from catalog.products.repository import ProductRepository
from catalog.products.schemas import (
    MAX_QUERY_TAGS,
    SLUG_PATTERN,
    BatchRequest,
    BatchResponse,
    PageSize,
    Product,
    ProductCreate,
    ProductPage,
    ProductPatch,
    ProductQuery,
    QueryAmount,
    QueryFlag,
    SearchText,
    Sort,
    Status,
)
from catalog.products.service import ProductService

app = Api.of("products", tags=["products"])
repository = ProductRepository()
service = ProductService(repository)
batches = BatchService(service, repository)
# Anonymous reads of active products may be cached by a CDN or browser for a short while;
# signed-in responses are never stored (see catalog.http.pipeline).
PUBLIC_ITEM_CACHE = "public, max-age=60, stale-while-revalidate=60"
PUBLIC_LIST_CACHE = "public, max-age=10"


def _product_response(
    product: Product, status: int = 200, headers: dict[str, str] | None = None
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=JSON,
        body=product.model_dump_json(),
        headers={"ETag": etag(product.version), **(headers or {})},
    )


def _if_match() -> frozenset[int] | None:
    return if_match_versions(app.current_event.headers.get("If-Match"))


@app.operation(
    responses={**returns(200, ProductPage, "A page of products"), **problems(400, 403, 422)},
)
def list_products(
    status: Annotated[Status, Query(description="active (default); others: admins")] = "active",
    category: Annotated[
        str | None, Query(pattern=SLUG_PATTERN, max_length=64, description="A category slug")
    ] = None,
    sort: Annotated[
        Sort | None,
        Query(
            description="created_at, price or name; a leading - reverses. Default: "
            "-created_at, or with q the matching word, then name"
        ),
    ] = None,
    min_price: Annotated[
        QueryAmount | None, Query(description="Lowest price, like 9.99 (at most 2 places)")
    ] = None,
    max_price: Annotated[
        QueryAmount | None, Query(description="Highest price, like 9.99 (at most 2 places)")
    ] = None,
    tag: Annotated[
        list[Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=64)]] | None,
        Query(max_length=MAX_QUERY_TAGS, description="A tag; repeat for several"),
    ] = None,
    tag_mode: Annotated[
        Literal["any", "all"], Query(description="Several tags: any of them (default) or all")
    ] = "any",
    in_stock: Annotated[
        QueryFlag, Query(description="true: only products with stock; exactly true or false")
    ] = False,
    q: Annotated[
        SearchText | None,
        Query(
            description="Words of the name, SKU or description, each a prefix; no case or accents"
        ),
    ] = None,
    limit: Annotated[PageSize, Query(description="Page size, 1-100")] = 20,
    cursor: Cursor = None,
) -> Response[str]:
    """List products: filter by category, price, tags, stock and words, sort, page by cursor.

    Two rules join parameters (422 otherwise, with `type: combination`): `max_price` is not
    below `min_price`, and `q` holds at least one letter or digit.
    """
    query = ProductQuery(
        status=status,
        category=category,
        sort=sort,
        min_price=min_price,
        max_price=max_price,
        tags=tuple(dict.fromkeys(tag or ())),
        tag_mode=tag_mode,
        in_stock=in_stock,
        q=q,
        limit=limit,
        cursor=cursor,
    )
    page = service.list(query, app.caller())
    public = status == "active"
    return Response(
        status_code=200,
        content_type=JSON,
        body=page.model_dump_json(),
        headers={"Cache-Control": PUBLIC_LIST_CACHE} if public else {},
    )


@app.operation(
    responses={
        **returns(201, Product, "The product created"),
        **problems(400, 401, 403, 409, 413, 415, 422),
    },
)
def create_product(body: Annotated[ProductCreate, Body()]) -> Response[str]:
    """Create a product owned by the caller (editor or admin); 201 with its `Location`.

    With an `Idempotency-Key` header, a retry returns the first response (with
    `Idempotent-Replayed: true`) instead of creating again.
    """
    by = app.signed_in()

    def create() -> Response[str]:
        product = service.create(body, by)
        metrics.add_metric(name=names.PRODUCT_CREATED, unit=MetricUnit.Count, value=1)
        where = app.location(f"/v1/products/{product.id}")
        return _product_response(product, 201, {"Location": where})

    return once_per_key(app, operation="POST /v1/products", user=by.sub, body=body, run=create)


@app.operation(
    responses={
        **returns(200, BatchResponse, "One result per operation, in order"),
        **problems(400, 401, 403, 409, 413, 415, 422),
    },
)
def batch(body: Annotated[BatchRequest, Body()]) -> Response[str]:
    """Up to 100 creates, updates and deletes; with `atomic: true` all or none apply.

    Honours `Idempotency-Key` like `POST /v1/products`.
    """
    by = app.signed_in()

    def run() -> Response[str]:
        outcome = batches.run(body, by)
        for result in outcome.results:
            if result.status < 300:
                name = {
                    201: names.PRODUCT_CREATED,
                    200: names.PRODUCT_UPDATED,
                    204: names.PRODUCT_DELETED,
                }
                metrics.add_metric(name=name[result.status], unit=MetricUnit.Count, value=1)
        return Response(status_code=200, content_type=JSON, body=outcome.model_dump_json())

    return once_per_key(app, operation="POST /v1/products/batch", user=by.sub, body=body, run=run)


@app.operation(
    responses={
        **returns(200, Product, "The product"),
        **empty(304, "Not modified: the `If-None-Match` names the current `ETag`"),
        **problems(404),
    },
)
def get_product(id: str) -> Response[str]:
    """One product: active ones to anyone; drafts and archived ones to their owner and admins.

    Answers 304 to an `If-None-Match` naming the current `ETag`.
    """
    product = service.get(id, app.caller())
    cache = {"Cache-Control": PUBLIC_ITEM_CACHE} if product.status == "active" else {}
    if none_match(app.current_event.headers.get("If-None-Match"), product.version):
        return Response(status_code=304, body="", headers={"ETag": etag(product.version), **cache})
    return _product_response(product, headers=cache)


@app.operation(
    responses={
        **returns(200, Product, "The product as changed"),
        **problems(400, 401, 403, 404, 409, 412, 413, 415, 422),
    },
)
def update_product(id: str, body: Annotated[ProductPatch, Body()]) -> Response[str]:
    """Change some fields of a product (its owner or an admin); absent fields are kept.

    With `If-Match: "<version>"` the change applies only to that version (else 412).
    """
    product = service.update(id, body, app.signed_in(), if_match=_if_match())
    metrics.add_metric(name=names.PRODUCT_UPDATED, unit=MetricUnit.Count, value=1)
    return _product_response(product)


@app.operation(
    responses={
        **empty(204, "The product is deleted"),
        **problems(401, 403, 404, 409, 412),
    }
)
def delete_product(id: str) -> Response[None]:
    """Delete a product and release its SKU (its owner or an admin); honours `If-Match`."""
    service.delete(id, app.signed_in(), if_match=_if_match())
    metrics.add_metric(name=names.PRODUCT_DELETED, unit=MetricUnit.Count, value=1)
    return Response(status_code=204, body=None)


lambda_handler = catalog.runtime.ready(app.handler())
