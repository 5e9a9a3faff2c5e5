"""Bulk product writes: up to 100 operations, each checked like the single request it stands
for (validation, ownership, versions, SKU uniqueness), one result per operation.

Without `atomic`, each operation is applied on its own. With `atomic`, they are all
prepared first and written in one DynamoDB transaction: all are applied, or none is, and
the operations that were fine answer 424 `not-applied`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pydantic import ConfigDict, TypeAdapter, ValidationError

from catalog.core.errors import (
    CatalogError,
    Conflict,
    DuplicateSku,
    NotApplied,
    ValidationFailed,
    VersionConflict,
)
from catalog.identity.principal import Principal
from catalog.products.items import sku_key
from catalog.products.repository import Change, TooManyItems
from catalog.products.schemas import (
    BatchRequest,
    BatchResponse,
    BatchResult,
    CreateOperation,
    DeleteOperation,
    Operation,
    Product,
    UpdateOperation,
)
from catalog.products.service import ProductService

# Built on the first batch, not at import: only POST /v1/products/batch needs it, and a
# TypeAdapter builds its validator at once (6 ms of every products cold start).
_operation = TypeAdapter(Operation, config=ConfigDict(defer_build=True))
STATUS = {"create": 201, "update": 200, "delete": 204}


class ChangeWriter(Protocol):
    def write_all(self, changes: Sequence[Change]) -> dict[int, Exception]: ...


def _invalid(index: int, error: ValidationError) -> ValidationFailed:
    return ValidationFailed(
        f"Operation {index} has invalid or missing fields.",
        errors=[
            {
                "in": "body",
                "pointer": "#/operations/" + "/".join([str(index), *_location(e["loc"])]),
                "detail": e["msg"],
                "type": e["type"],
            }
            for e in error.errors(include_input=False)
        ],
    )


def _location(loc: tuple[Any, ...]) -> list[str]:
    # A discriminated union reports the operation's kind first ("create", ...): not a field.
    parts = [str(p) for p in loc]
    return parts[1:] if parts and parts[0] in STATUS else parts


def _versions(if_match: int | None) -> frozenset[int] | None:
    return None if if_match is None else frozenset({if_match})


def _result(index: int, outcome: Product | CatalogError | None, status: int) -> BatchResult:
    if isinstance(outcome, CatalogError):
        return BatchResult(index=index, status=outcome.status, error=outcome.to_problem())
    return BatchResult(index=index, status=status, product=outcome)


class BatchService:
    def __init__(self, products: ProductService, writer: ChangeWriter) -> None:
        self._products = products
        self._writer = writer

    def run(self, request: BatchRequest, by: Principal) -> BatchResponse:
        operations: list[Any] = []
        for index, raw in enumerate(request.operations):
            try:
                operations.append(_operation.validate_python(raw))
            except ValidationError as error:
                operations.append(_invalid(index, error))
        if request.atomic:
            results = self._all_or_nothing(operations, by)
        else:
            results = [self._one(index, op, by) for index, op in enumerate(operations)]
        applied = sum(1 for r in results if r.status < 300)
        return BatchResponse(atomic=request.atomic, applied=applied, results=results)

    def _one(self, index: int, operation: Any, by: Principal) -> BatchResult:
        if isinstance(operation, CatalogError):
            return _result(index, operation, operation.status)
        try:
            if isinstance(operation, CreateOperation):
                return _result(index, self._products.create(operation.product, by), 201)
            if isinstance(operation, UpdateOperation):
                versions = _versions(operation.if_match)
                product = self._products.update(operation.id, operation.changes, by, versions)
                return _result(index, product, 200)
            self._products.delete(operation.id, by, _versions(operation.if_match))
            return _result(index, None, 204)
        except CatalogError as error:
            return _result(index, error, error.status)

    def _prepare(self, operation: Any, by: Principal) -> Change:
        if isinstance(operation, CatalogError):
            raise operation
        if isinstance(operation, CreateOperation):
            return Change(None, self._products.new_product(operation.product, by))
        versions = _versions(operation.if_match)
        current = self._products.get_for_change(operation.id, by, versions)
        if isinstance(operation, DeleteOperation):
            return Change(current, None)
        return Change(current, self._products.changed(current, operation.changes))

    def _all_or_nothing(self, operations: list[Any], by: Principal) -> list[BatchResult]:
        changes: dict[int, Change] = {}
        errors: dict[int, CatalogError] = {}
        for index, operation in enumerate(operations):
            try:
                changes[index] = self._prepare(operation, by)
            except CatalogError as error:
                errors[index] = error
        errors.update(_overlaps(changes))
        if not errors:
            ordered = [changes[i] for i in range(len(operations))]
            try:
                written = self._writer.write_all(ordered)
            except TooManyItems as error:
                raise ValidationFailed(
                    f"An atomic batch may touch at most 100 items; this one needs {error.items}.",
                    errors=[
                        {
                            "in": "body",
                            "pointer": "#/operations",
                            "detail": "send fewer operations, or atomic: false",
                            "type": "too_long",
                        }
                    ],
                ) from None
            for index, problem in written.items():
                errors[index] = (
                    problem
                    if isinstance(problem, CatalogError)
                    else Conflict("The product changed meanwhile; read it and try again.")
                    if isinstance(problem, VersionConflict)
                    else Conflict("The batch could not be applied.")
                )
        if errors:
            not_applied = NotApplied("Not applied: another operation of this atomic batch failed.")
            return [
                _result(index, errors.get(index, not_applied), 0)
                for index in range(len(operations))
            ]
        return [
            _result(index, changes[index].after, STATUS[_op_name(operations[index])])
            for index in range(len(operations))
        ]


def _op_name(operation: Any) -> str:
    return str(operation.op)


def _overlaps(changes: dict[int, Change]) -> dict[int, CatalogError]:
    """Operations of one atomic batch that would touch the same item twice."""
    errors: dict[int, CatalogError] = {}
    products: dict[str, int] = {}
    claimed: dict[str, int] = {}
    released: set[str] = set()
    for change in changes.values():
        if change.before is not None and (
            change.after is None or sku_key(change.before.sku) != sku_key(change.after.sku)
        ):
            released.add(sku_key(change.before.sku))
    for index, change in sorted(changes.items()):
        product = change.after or change.before
        assert product is not None
        if product.id in products:
            errors[index] = ValidationFailed(
                f"Operation {products[product.id]} already changes this product.",
                errors=[
                    {
                        "in": "body",
                        "pointer": f"#/operations/{index}/id",
                        "detail": "one operation per product in an atomic batch",
                        "type": "duplicate",
                    }
                ],
            )
        products.setdefault(product.id, index)
        after, before = change.after, change.before
        if after is not None and (before is None or sku_key(before.sku) != sku_key(after.sku)):
            key = sku_key(after.sku)
            if key in claimed:
                errors[index] = DuplicateSku(f"Operation {claimed[key]} also uses {after.sku}.")
            elif key in released:
                errors[index] = Conflict(
                    f"Another operation releases {after.sku}; split the batch."
                )
            claimed.setdefault(key, index)
    return errors
