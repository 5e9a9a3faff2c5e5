"""The floor: what any Python function reading DynamoDB pays. boto3, one client, one GetItem."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

client = boto3.client("dynamodb")
TABLE = os.environ.get("TABLE_PRODUCTS", "products")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    key = {"pk": {"S": f"PRODUCT#{event['pathParameters']['id']}"}, "sk": {"S": "PRODUCT"}}
    item = client.get_item(TableName=TABLE, Key=key).get("Item")
    if item is None:
        return {"statusCode": 404, "body": ""}
    return {"statusCode": 200, "body": json.dumps(item)}
