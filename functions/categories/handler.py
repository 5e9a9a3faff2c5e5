"""Categories API: public reading, admin-only writing."""

from __future__ import annotations

# ruff: noqa: E402 - init work comes before the other imports (catalog.core.coldstart, .dynamo).
from catalog.core import coldstart

coldstart.begin()  # until api_handler() below

from catalog.core.dynamo import open_client

open_client()  # see catalog.core.dynamo.open_client: a lower peak RSS

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from catalog.categories.repository import CategoryRepository
from catalog.categories.schemas import Category, CategoryCreate, CategoryList, CategoryPatch
from catalog.categories.service import CategoryService
from catalog.core.http import JSON, api_handler, location, make_resolver
from catalog.http.responses import problems
from catalog.http.routes import routes_of

app = make_resolver()
service = CategoryService(CategoryRepository())
TAGS = ["categories"]


@app.get("/v1/categories", tags=TAGS)
def list_categories() -> CategoryList:
    """Every category, by slug."""
    return service.list()


@app.get("/v1/categories/<slug>", tags=TAGS, responses=problems(404))
def get_category(slug: str) -> Category:
    """One category."""
    return service.get(slug)


@app.post("/v1/categories", tags=TAGS, responses=problems(400, 401, 403, 409, 415, 422))
def create_category(body: Annotated[CategoryCreate, Body()]) -> Response[Category]:
    """Create a category (admins); its parent must exist."""
    category = service.create(body)
    where = location(app, f"/v1/categories/{category.slug}")
    return Response(status_code=201, content_type=JSON, body=category, headers={"Location": where})


@app.patch("/v1/categories/<slug>", tags=TAGS, responses=problems(400, 401, 403, 404, 409, 422))
def update_category(slug: str, body: Annotated[CategoryPatch, Body()]) -> Category:
    """Rename or move a category (admins)."""
    return service.update(slug, body)


@app.delete("/v1/categories/<slug>", tags=TAGS, responses=problems(401, 403, 404, 409))
def delete_category(slug: str) -> Response[None]:
    """Delete a category with no products and no subcategories (admins); else 409."""
    service.delete(slug)
    return Response(status_code=204, body=None)


lambda_handler = api_handler(app, routes_of("categories"))
