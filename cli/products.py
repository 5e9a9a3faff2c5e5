"""`products list | get`: read the catalog through the API."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Column, Table

from cli.client import Api, Client
from cli.errors import one_line_errors

app = typer.Typer(help="Read products.", no_args_is_help=True)
console = Console(highlight=False)

# The filters of GET /v1/products (and of an export), as options.
Status = Annotated[str, typer.Option(help="active, draft or archived (others: admins).")]
Category = Annotated[str | None, typer.Option(help="A category slug.")]
Sort = Annotated[str | None, typer.Option(help="created_at, price or name; a leading - reverses.")]
MinPrice = Annotated[str | None, typer.Option("--min-price", help="Lowest price, like 9.99.")]
MaxPrice = Annotated[str | None, typer.Option("--max-price", help="Highest price, like 9.99.")]
Tags = Annotated[list[str] | None, typer.Option("--tag", help="A tag; repeat for several.")]
TagMode = Annotated[str, typer.Option("--tag-mode", help="Several tags: any or all.")]
InStock = Annotated[bool, typer.Option("--in-stock", help="Only products in stock.")]
Search = Annotated[str | None, typer.Option("--q", help="Words of the name, SKU or description.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]


def filters(
    status: str,
    category: str | None,
    sort: str | None,
    min_price: str | None,
    max_price: str | None,
    tags: list[str] | None,
    tag_mode: str,
    in_stock: bool,
    q: str | None,
) -> dict[str, Any]:
    """The filters given (those left at their default are left out)."""
    chosen: dict[str, Any] = {"status": status, "category": category, "sort": sort}
    chosen |= {"min_price": min_price, "max_price": max_price, "q": q}
    chosen |= {"tags": tags or None, "tag_mode": tag_mode if tags else None}
    chosen["in_stock"] = in_stock or None
    return {name: value for name, value in chosen.items() if value is not None}


@app.command("list")
def list_products(
    status: Status = "active",
    category: Category = None,
    sort: Sort = None,
    min_price: MinPrice = None,
    max_price: MaxPrice = None,
    tag: Tags = None,
    tag_mode: TagMode = "any",
    in_stock: InStock = False,
    q: Search = None,
    limit: Annotated[int, typer.Option(help="Products per page, 1-100.")] = 20,
    cursor: Annotated[str | None, typer.Option(help="A page's next cursor.")] = None,
    as_json: AsJson = False,
    api: Api = None,
) -> None:
    """One page of products (signed in when you are: admins see drafts)."""
    with one_line_errors():
        params = filters(status, category, sort, min_price, max_price, tag, tag_mode, in_stock, q)
        params["limit"] = limit
        if cursor:
            params["cursor"] = cursor
        params["tag"] = params.pop("tags", None)
        client = Client.of(api)
        page = client.call("GET", "/v1/products", signed_in=False, params=params)
        if as_json:
            console.print_json(json.dumps(page))
            return
        # ids and SKUs whole, whatever the terminal's width: they are what a user copies
        table = Table(
            Column("id", no_wrap=True, min_width=26),
            Column("sku", no_wrap=True),
            "name",
            "price",
            "category",
            "stock",
            "status",
        )
        for product in page["items"]:
            table.add_row(
                product["id"],
                product["sku"],
                product["name"],
                f"{product['price']} {product['currency']}",
                product["category"],
                str(product["stock"]),
                product["status"],
            )
        console.print(table)
        if page.get("next_cursor"):
            console.print(f"next page: --cursor {page['next_cursor']}")


@app.command("get")
def get_product(product_id: Annotated[str, typer.Argument(metavar="ID")], api: Api = None) -> None:
    """One product, as the API's JSON."""
    with one_line_errors():
        product = Client.of(api).call("GET", f"/v1/products/{product_id}", signed_in=False)
        console.print_json(json.dumps(product))
