"""The committed OpenAPI document: valid OpenAPI 3.1, complete, and its examples valid."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest
from openapi_spec_validator import validate

from infra import topology
from infra.openapi import PROBLEM
from tests.contract import document, resolve, validator

OPERATIONS = [
    (path, method, operation)
    for path, methods in document["paths"].items()
    for method, operation in methods.items()
]
IDS = [f"{method.upper()} {path}" for path, method, _ in OPERATIONS]


def test_the_document_is_valid_openapi() -> None:
    # When the document is checked against the OpenAPI 3.1 specification
    validate(document)
    # Then it passes (validate raises otherwise), with a semantic version
    assert re.fullmatch(r"1\.\d+\.\d+", document["info"]["version"])


def test_every_route_is_an_operation_of_the_document() -> None:
    documented = {(method.upper(), path) for path, method, _ in OPERATIONS}
    # Then every route is documented but the document's own and the pages that show it
    # (the docs page and its assets are HTML and scripts for people, not the API)
    pages = {"openapi", "docs_page", "docs_asset"}
    expected = {(r.method, r.path) for r in topology.ROUTES if r.operation not in pages}
    assert documented == expected


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_each_operation_documents_success_first_and_problems_for_errors(
    path: str, method: str, operation: dict[str, Any]
) -> None:
    statuses = list(operation["responses"])
    # Then a success comes first, and 401, 429, 500, 502 and 504 are always there
    assert 200 <= int(statuses[0]) < 400
    assert statuses == sorted(statuses, key=int)
    assert {"401", "429", "500", "502", "504"} <= set(statuses)
    for code, response in operation["responses"].items():
        response = resolve(response)
        if int(code) >= 400 and not (path == "/v1/health" and code == "503"):
            # And every error is problem+json with the one Problem schema
            assert list(response["content"]) == [PROBLEM], code
            assert response["content"][PROBLEM]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }
    # And it has a summary, a tag and the security of its access rule
    assert operation["summary"] and operation["tags"]
    route = next(r for r in topology.ROUTES if (r.method, r.path) == (method.upper(), path))
    expected = [{}, {"bearer": []}] if route.access.public else [{"bearer": []}]
    assert operation["security"] == expected


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_every_body_has_an_example_valid_against_its_schema(
    path: str, method: str, operation: dict[str, Any]
) -> None:
    bodies = []
    if "requestBody" in operation:
        bodies.append(("request", operation["requestBody"]["content"]["application/json"]))
    for code, response in operation["responses"].items():
        for media, content in resolve(response).get("content", {}).items():
            bodies.append((f"{code} {media}", content))
    for where, content in bodies:
        examples = [content["example"]] if "example" in content else []
        examples += [e["value"] for e in content.get("examples", {}).values()]
        # Then each body has at least one example, and each is valid against the schema
        assert examples, f"{where}: no example"
        check = validator(content["schema"])
        for example in examples:
            errors = [e.message for e in check.iter_errors(example)]
            assert not errors, f"{where}: {errors}"


def test_create_operations_link_to_what_reads_and_changes_what_they_made() -> None:
    ids = {operation["operationId"] for _, _, operation in OPERATIONS}
    created = {
        operation["operationId"]: operation["responses"].get("201") or operation["responses"]["202"]
        for _, method, operation in OPERATIONS
        if method == "post" and {"201", "202"} & set(operation["responses"])
    }
    # Then products, categories and webhooks link to their get, patch and delete, and the
    # import and export jobs (201, 202) to the get that follows them
    for create, targets in {
        "createProduct": {"getProduct", "updateProduct", "deleteProduct"},
        "createCategory": {"getCategory", "updateCategory", "deleteCategory"},
        "createWebhook": {"getWebhook", "updateWebhook", "deleteWebhook"},
        "requestImport": {"getImport"},
        "startExport": {"getExport"},
    }.items():
        links = {link["operationId"] for link in created[create]["links"].values()}
        assert targets <= links
        assert links <= ids  # and each link names an operation of the document
        assert "Location" in created[create]["headers"]


def _patterns(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_patterns(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
    return found.union(*(_patterns(value) for value in node.values()))


def test_every_pattern_is_an_ecmascript_regex_with_and_without_the_u_flag() -> None:
    # Given every pattern of the document (JSON Schema's patterns are ECMA-262 regexes)
    patterns = sorted(_patterns(document))
    assert len(patterns) > 10
    # When Node compiles each, as a tool without and with Unicode mode would
    script = (
        "const ps = JSON.parse(require('fs').readFileSync(0, 'utf8')); const bad = [];"
        "for (const p of ps) for (const f of ['', 'u'])"
        " { try { new RegExp(p, f) } catch (e) { bad.push(f + ' ' + e.message) } }"
        "console.log(JSON.stringify(bad));"
    )
    result = subprocess.run(
        ["node", "-e", script],
        input=json.dumps(patterns),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    # Then each compiles
    assert json.loads(result.stdout) == []


def test_every_pattern_compiles_in_an_engine_over_unicode_scalar_values() -> None:
    # (found by the fuzzer: the text rule named lone surrogates, which Rust's regex cannot,
    # so jsonschema-rs refused the pattern and Schemathesis generated without it)
    import jsonschema_rs

    # Given every pattern of the document
    refused = []
    for pattern in sorted(_patterns(document)):
        # When jsonschema-rs (Rust's regex engines) builds a validator of it
        try:
            jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
        except ValueError as error:
            refused.append(f"{pattern[:60]}...: {str(error)[:120]}")
    # Then each compiles
    assert refused == []
