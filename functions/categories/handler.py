"""Categories API: public reading, admin-only writing."""

from __future__ import annotations

import catalog.runtime  # the function's init starts here (catalog/runtime.py)

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from catalog.categories.repository import CategoryRepository
from catalog.categories.schemas import Category, CategoryCreate, CategoryList, CategoryPatch
from catalog.categories.service import CategoryService
from catalog.http.api import JSON, Api
from catalog.http.responses import empty, problems, returns

app = Api.of("categories", tags=["categories"])
service = CategoryService(CategoryRepository())


@app.operation()
def list_categories() -> CategoryList:
    """Every category, by slug; `product_count` counts active products (admins: all)."""
    return service.list(app.caller())


@app.operation(responses={**returns(200, Category, "The category"), **problems(404)})
def get_category(slug: str) -> Category:
    """One category; `product_count` counts active products (admins: all)."""
    return service.get(slug, app.caller())


@app.operation(
    responses={
        **returns(201, Category, "The category created"),
        **problems(400, 401, 403, 409, 415, 422),
    }
)
def create_category(body: Annotated[CategoryCreate, Body()]) -> Response[Category]:
    """Create a category (admins); its parent must exist."""
    category = service.create(body)
    where = app.location(f"/v1/categories/{category.slug}")
    return Response(status_code=201, content_type=JSON, body=category, headers={"Location": where})


@app.operation(
    responses={
        **returns(200, Category, "The category as changed"),
        **problems(400, 401, 403, 404, 409, 422),
    }
)
def update_category(slug: str, body: Annotated[CategoryPatch, Body()]) -> Category:
    """Rename or move a category (admins)."""
    return service.update(slug, body)


@app.operation(responses={**empty(204, "The category is deleted"), **problems(401, 403, 404, 409)})
def delete_category(slug: str) -> Response[None]:
    """Delete a category with no products and no subcategories (admins); else 409."""
    service.delete(slug)
    return Response(status_code=204, body=None)


lambda_handler = catalog.runtime.ready(app.handler())
