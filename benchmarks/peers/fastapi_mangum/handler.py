"""FastAPI + Mangum twin of GET /v1/products/{id} and POST /v1/products (see twin_store)."""

from __future__ import annotations

import twin_store
from fastapi import FastAPI, HTTPException, Request
from mangum import Mangum

from catalog.products.schemas import Product, ProductCreate

app = FastAPI(title="catalog twin")


@app.get("/v1/products/{id}")
def get_product(id: str) -> Product:
    try:
        return twin_store.store.get(id)
    except twin_store.NotFound:
        raise HTTPException(status_code=404, detail="No such product.") from None


@app.post("/v1/products", status_code=201)
def create_product(body: ProductCreate, request: Request) -> Product:
    owner = twin_store.owner_of(request.scope["aws.event"])
    if owner is None:
        raise HTTPException(status_code=401, detail="Sign in first.")
    product = twin_store.new_product(body, owner)
    try:
        twin_store.store.create(product)
    except twin_store.Conflict:
        raise HTTPException(status_code=409, detail="SKU taken or no such category.") from None
    return product


lambda_handler = Mangum(app, lifespan="off")
