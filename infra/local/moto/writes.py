"""The one list of moto's DynamoDB methods that change items or tables, for every patch.

Both patches that must see each write use it: the write lock (correctness.py) and the
bench's query cache (queries.py), so they cannot disagree on what a write is.
"""

from __future__ import annotations

from typing import Any

from infra.local.moto._patching import load, require

# "Class.method". The backend methods are what moto server's handlers call for each write
# API; batch_write_item is a stub there (moto's handler calls put_item and delete_item per
# request), listed so that the day moto moves the logic into it, it is covered already.
# PartiQL's three calls write through Table.put_item / Table.delete_item, as does the
# thread moto's ImportTable starts (after its create_table); listing those two as well
# covers the writes that reach a table without a backend method.
WRITES: tuple[str, ...] = (
    "DynamoDBBackend.put_item",
    "DynamoDBBackend.update_item",
    "DynamoDBBackend.delete_item",
    "DynamoDBBackend.transact_write_items",
    "DynamoDBBackend.batch_write_item",
    "DynamoDBBackend.execute_statement",
    "DynamoDBBackend.execute_transaction",
    "DynamoDBBackend.batch_execute_statement",
    "DynamoDBBackend.create_table",
    "DynamoDBBackend.delete_table",
    "DynamoDBBackend.update_table",
    "DynamoDBBackend.update_table_global_indexes",
    "DynamoDBBackend.restore_table_from_backup",
    "DynamoDBBackend.restore_table_to_point_in_time",
    "DynamoDBBackend.import_table",
    "Table.put_item",
    "Table.delete_item",
)

_CLASSES = {
    "DynamoDBBackend": "moto.dynamodb.models",
    "Table": "moto.dynamodb.models.table",
}


def write_methods() -> list[tuple[Any, str]]:
    """(moto class, method name) for each entry of WRITES; an error if moto lacks one."""
    classes = {name: load(module, name)[0] for name, module in _CLASSES.items()}
    methods = []
    for entry in WRITES:
        owner, name = entry.split(".")
        require(classes[owner], name)
        methods.append((classes[owner], name))
    return methods
