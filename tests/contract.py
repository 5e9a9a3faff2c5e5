"""The committed OpenAPI document as a test oracle: is an answer one the document describes?"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator

from infra.openapi import DOCUMENT

document: dict[str, Any] = json.loads(DOCUMENT.read_text())


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """`node`, its `$ref` followed inside the document."""
    while "$ref" in node:
        _, *parts = node["$ref"].split("/")
        target: Any = document
        for part in parts:
            target = target[part]
        node = target
    return node


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of `schema`, whose references point into the document."""
    root = {**document, "$ref": "#/$defs/it", "$defs": {"it": schema}}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def operation(method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path][method.lower()]
    return found


def schema_errors(schema: dict[str, Any], value: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(schema).iter_errors(value)
    ]


def conformance_errors(
    method: str, path: str, status: int, content_type: str | None, body: str
) -> list[str]:
    """What in an answer the document does not describe: its status, its media type, or
    its body against the schema of that status (empty: it conforms)."""
    responses = operation(method, path)["responses"]
    if str(status) not in responses:
        return [f"{method} {path}: status {status} is not documented ({sorted(responses)})"]
    content = resolve(responses[str(status)]).get("content")
    if not content:
        return [] if not body else [f"{method} {path} {status}: a body where none is documented"]
    media = (content_type or "").split(";")[0].strip()
    if media not in content:
        return [f"{method} {path} {status}: {media!r} is not documented ({sorted(content)})"]
    try:
        value = json.loads(body)
    except ValueError:
        return [f"{method} {path} {status}: the body is not JSON"]
    return [
        f"{method} {path} {status}: {e}" for e in schema_errors(content[media]["schema"], value)
    ]
