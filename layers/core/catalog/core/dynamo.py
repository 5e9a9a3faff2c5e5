"""pynamodb pieces every repository shares: lazy table names, exact numbers, transactions."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

from pynamodb.attributes import Attribute, UnicodeAttribute
from pynamodb.connection import Connection, TableConnection
from pynamodb.constants import NUMBER
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from catalog import runtime
from catalog.core import aws
from catalog.core.settings import settings


class TableName:
    """A model's `Meta.table_name` resolved on first use from `TABLE_<NAME>`, not at import."""

    def __init__(self, logical: str) -> None:
        self.logical = logical

    def __get__(self, instance: object, owner: type) -> str:
        return settings().table_name(self.logical)


class DecimalAttribute(Attribute[Decimal]):
    """A DynamoDB number read back as `Decimal` (pynamodb's NumberAttribute yields floats)."""

    attr_type = NUMBER

    def serialize(self, value: Decimal) -> str:
        return str(value)

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


@cache
def connection() -> Connection:
    """The function's one DynamoDB connection (region and endpoint from the environment):
    every `TableModel` and every transaction goes through it. Timeouts and retries are the
    functions' (catalog.core.aws); pynamodb builds the client, without TCP keepalive probes."""
    return Connection(
        connect_timeout_seconds=aws.CONNECT_TIMEOUT_S,
        read_timeout_seconds=aws.read_timeout(aws.DYNAMODB_READ_TIMEOUT_S),
        retry_configuration=dict(aws.RETRIES),
        max_pool_connections=aws.MAX_POOL_CONNECTIONS,
    )


@runtime.on_restore
def _drop_dynamodb_connections() -> None:
    """pynamodb makes this client itself (not through catalog.core.aws)."""
    if connection.cache_info().currsize:
        built = connection()._client
        if built is not None:
            aws.drop_connections(built)


class TableModel(Model):
    """A pynamodb model whose requests go through the botocore client of `connection()`.

    pynamodb gives each model class a connection of its own (it holds the model's key and
    index schema), and each connection creates a botocore session and client of its own,
    parsing DynamoDB's service model again: about 100 ms and 12 MiB the first time each of
    a function's models is used in a container (measured with `make bench`'s harness). The
    connections stay per model; the client they send through is the one of `connection()`.
    """

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()
        # pynamodb builds its client lazily into `_client` and re-creates it only when it
        # has no credentials; handing it the shared one skips that creation.
        table.connection._client = connection().client
        return table


def failed_conditions(error: TransactWriteError) -> list[bool]:
    """Per transaction item, in request order: did its condition fail?"""
    return [
        reason is not None and reason.code == "ConditionalCheckFailed"
        for reason in error.cancellation_reasons
    ]


class Transaction:
    """A DynamoDB transaction whose failed conditions come back by label, not by position.

    (pynamodb sends condition checks, then deletes, then puts, then updates, whatever the
    order they were added in; the labels keep callers free of that detail.)
    """

    _KINDS = ("check", "delete", "save", "update")

    def __init__(self) -> None:
        self._ops: list[tuple[str, str, Callable[[TransactWrite], None]]] = []

    def save(self, label: str, model: Model, condition: Condition | None = None) -> None:
        self._ops.append(("save", label, lambda tx: tx.save(model, condition=condition)))

    def delete(self, label: str, model: Model, condition: Condition | None = None) -> None:
        self._ops.append(("delete", label, lambda tx: tx.delete(model, condition=condition)))

    def update(
        self,
        label: str,
        model: Model,
        actions: Sequence[Action],
        condition: Condition | None = None,
    ) -> None:
        self._ops.append(
            (
                "update",
                label,
                lambda tx: tx.update(
                    model, list(actions), condition=condition, add_version_condition=False
                ),
            )
        )

    @property
    def size(self) -> int:
        return len(self._ops)

    def commit(self) -> frozenset[str]:
        """Write everything or nothing; the labels whose conditions failed (empty: written)."""
        try:
            # The token makes the SDK's own retries (after a timeout, say) idempotent: a
            # retry of a transaction that did commit must not fail its own conditions.
            token = secrets.token_hex(16)
            with TransactWrite(connection=connection(), client_request_token=token) as tx:
                for _, _, op in self._ops:
                    op(tx)
        except TransactWriteError as error:
            failed = failed_conditions(error)
            if not any(failed):
                raise
            order = [label for kind in self._KINDS for k, label, _ in self._ops if k == kind]
            return frozenset(label for label, hit in zip(order, failed, strict=False) if hit)
        return frozenset()


def string_index(name: str, partition_key: str, sort_key: str) -> Any:
    """A global secondary index projecting every attribute, keyed by two string attributes,
    as declared for the table in `infra/topology.py` (assign it on the model class)."""
    meta = type("Meta", (), {"index_name": name, "projection": AllProjection()})
    index_class = type(
        f"Index_{name}",
        (GlobalSecondaryIndex,),
        {
            "Meta": meta,
            partition_key: UnicodeAttribute(hash_key=True),
            sort_key: UnicodeAttribute(range_key=True),
        },
    )
    return index_class()
