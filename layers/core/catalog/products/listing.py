"""Listings of products: which designed index serves a query, what a page must still check
in code, and how cursors say where a page ends. Pure: shared by the repository, the service
and the in-memory test store."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from catalog.products.schemas import Product

# No request reads more than this many items, whatever it filters on: a combination that
# no index serves returns what it found among them, with a cursor to go on from there.
MAX_EXAMINED = 1000
MAX_WORDS = 12  # words of a product that search finds (name, then SKU, then description)
MAX_WORD_LENGTH = 30
# How a product's search words are chosen, by the schema_version of its stored items (the
# migration 0002_search_words_v2 moved every product from 1 to 2): 1, the words of the name
# then the SKU; 2, then also the description's, so each layout's words begin with the
# previous one's (an API write over a product still at 1 removes every copy it had).
WORDS_NAME_SKU = 1
WORDS_WITH_DESCRIPTION = 2
WORDS_LAYOUT = WORDS_WITH_DESCRIPTION  # what the code writes

SourceKind = Literal["status", "category", "tag", "words"]


@dataclass(frozen=True)
class Source:
    """The index partition a listing reads: all products of a status, of a category and a
    status, of a tag and a status, or the search words starting with `key`."""

    kind: SourceKind
    key: str | None = None


@dataclass(frozen=True)
class ListingPlan:
    """Which designed listing to read, from where, and what a page must still check."""

    status: str
    category: str | None
    order: str  # "created_at", "price", "name" or "match" (search words, then name)
    descending: bool
    limit: int
    after: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    tags: tuple[str, ...] = ()
    tag_mode: Literal["any", "all"] = "any"
    in_stock: bool = False
    terms: tuple[str, ...] = ()  # folded search words, each a prefix
    owner: str | None = None  # only this user's products (an editor's export)

    @property
    def source(self) -> Source:
        if self.order == "match":
            return Source("words", max(self.terms, key=len))
        if len(self.tags) == 1 or (self.tags and self.tag_mode == "all"):
            return Source("tag", self.tags[0])
        if self.category is not None:
            return Source("category", self.category)
        return Source("status")

    @property
    def price_range_by_key(self) -> bool:
        """Whether the price range is a key condition (price order), not a check in code."""
        return self.order == "price" and self.source.kind != "words"

    @property
    def filtered(self) -> bool:
        """Whether items read may fail a check in code (so a page examines, up to
        MAX_EXAMINED items, instead of reading exactly one page)."""
        source = self.source
        has_range = self.min_price is not None or self.max_price is not None
        return (
            bool(self.terms)  # (in search, a product with two matching words is read twice)
            or (self.category is not None and source.kind != "category")
            or (bool(self.tags) and source != Source("tag", self.tags[0]))
            or len(self.tags) > 1
            or self.in_stock
            or self.owner is not None
            or (has_range and not self.price_range_by_key)
        )

    def wants(self, product: Product) -> bool:
        """Whether `product` (of the source's partition) belongs in this listing."""
        if product.status != self.status:
            return False
        if self.owner is not None and product.owner != self.owner:
            return False
        if self.category is not None and product.category != self.category:
            return False
        if self.tags:
            present = [tag in product.tags for tag in self.tags]
            if not (all(present) if self.tag_mode == "all" else any(present)):
                return False
        if self.in_stock and product.stock <= 0:
            return False
        if self.min_price is not None and product.price < self.min_price:
            return False
        if self.max_price is not None and product.price > self.max_price:
            return False
        if self.terms:
            words = product_words(product)
            return all(any(w.startswith(t) for w in words) for t in self.terms)
        return True


def fold(text: str) -> str:
    """Text as people compare it: no case, no accents (é ~ e, ß ~ ss)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits


def terms_of(text: str) -> tuple[str, ...]:
    """The distinct folded words of `text`, in order, at most MAX_WORD_LENGTH long each."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(fold(text)):
        seen.setdefault(word[:MAX_WORD_LENGTH], None)
    return tuple(seen)


def words_of(
    name: str, sku: str, description: str = "", layout: int = WORDS_LAYOUT
) -> tuple[str, ...]:
    """The words search finds a product by: those of its name, then of its SKU, then (from
    layout 2) of its description; at most MAX_WORDS."""
    terms = terms_of(name) + terms_of(sku)
    if layout >= WORDS_WITH_DESCRIPTION:
        terms += terms_of(description)
    return tuple(dict.fromkeys(terms))[:MAX_WORDS]


def product_words(product: Product, layout: int = WORDS_LAYOUT) -> tuple[str, ...]:
    return words_of(product.name, product.sku, product.description, layout)


def first_match(product: Product, term: str, layout: int = WORDS_LAYOUT) -> str | None:
    """The first (smallest) word of `product` starting with `term`: search lists a product
    at that word only, so one with two matching words is not listed twice. `layout`: that
    of the copies stored (while a migration runs, some products are still at the old one)."""
    return min((w for w in product_words(product, layout) if w.startswith(term)), default=None)


def price_key(price: Decimal) -> str:
    """A price as a sortable string: whole cents, 10 digits (prices are at most 1e6)."""
    return f"{int(price * 100):010d}"


def price_position(price: Decimal, product_id: str) -> str:
    return f"{price_key(price)}#{product_id}"


def name_key(name: str) -> str:
    """A name as it sorts for people: no case, no accents (é ~ e), at most 100 characters.

    '#' and '~' are replaced so the key never reaches past its own `#<id>` suffix.
    """
    return fold(name).replace("#", " ").replace("~", " ")[:100]


def name_position(name: str, product_id: str) -> str:
    return f"{name_key(name)}#{product_id}"


def word_position(word: str, product: Product) -> str:
    """Where `product` sits among the products with search word `word`: by word, then name."""
    return f"{word}#{name_position(product.name, product.id)}"


def position_of(product: Product, order: str, term: str | None = None) -> str:
    """Where `product` sits in a listing ordered by `order` (what cursors carry); search
    listings (`match`) place it at its first word starting with `term`."""
    if order == "price":
        return price_position(product.price, product.id)
    if order == "name":
        return name_position(product.name, product.id)
    if order == "match":
        word = first_match(product, term or "")
        assert word is not None, "the product has no word starting with the term"
        return word_position(word, product)
    return product.id


_ULID = "[0-9A-HJKMNP-TV-Z]{26}"
POSITION = {
    "created_at": re.compile(rf"^{_ULID}$"),
    "price": re.compile(rf"^[0-9]{{10}}#{_ULID}$"),
    "name": re.compile(rf"^[^#~]{{0,400}}#{_ULID}$"),
    "match": re.compile(rf"^[^\W_]{{1,{MAX_WORD_LENGTH}}}#[^#~]{{0,400}}#{_ULID}$"),
}
