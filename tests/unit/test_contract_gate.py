"""The breaking-change gate (infra.contract): Optic against the released contract."""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from typing import Any

import pytest

from infra.contract import CURRENT, check, latest_release, without_sunset

TODAY = date(2026, 12, 1)
current: dict[str, Any] = json.loads(CURRENT.read_text())


def _released() -> dict[str, Any]:
    path = latest_release()
    assert path is not None, "api/openapi.v1.json is the released contract"
    released: dict[str, Any] = json.loads(path.read_text())
    return released


def _broken() -> dict[str, Any]:
    """The current document less a response field, plus a new required query parameter."""
    broken = copy.deepcopy(current)
    product = broken["components"]["schemas"]["Product"]
    del product["properties"]["stock"]
    product["required"].remove("stock")
    broken["paths"]["/v1/products"]["get"]["parameters"].append(
        {"name": "region", "in": "query", "required": True, "schema": {"type": "string"}}
    )
    return broken


@pytest.mark.xdist_group("optic")
def test_the_current_document_keeps_the_released_contract() -> None:
    # When the generated document is compared with the released one
    status, report = check(_released(), current, TODAY)
    # Then the gate passes
    assert status == 0, report


@pytest.mark.xdist_group("optic")
def test_a_removed_field_and_a_new_required_parameter_fail_the_gate() -> None:
    # When a copy without a response field and with a new required parameter is compared
    status, report = check(_released(), _broken(), TODAY)
    # Then the gate fails, naming both breaks
    assert status != 0, report
    assert "cannot remove response property 'stock'" in report
    assert "cannot add required query parameter region" in report


def test_what_passed_its_sunset_may_be_removed_and_nothing_else() -> None:
    # Given a released contract with an operation and a field past their sunset, and an
    # operation whose sunset is still to come
    released = copy.deepcopy(current)
    paths = released["paths"]
    paths["/v1/webhooks/{id}/ping"]["post"].update(deprecated=True, **{"x-sunset": "2026-11-30"})
    paths["/v1/health"]["get"].update(deprecated=True, **{"x-sunset": "2027-06-30"})
    webhook = released["components"]["schemas"]["Webhook"]["properties"]
    webhook["description"].update(deprecated=True, **{"x-sunset": "2026-12-01"})
    # When the gate leaves out what may be removed by today
    pruned = without_sunset(released, TODAY)
    # Then the sunset operation and field are gone, the rest is kept
    assert "/v1/webhooks/{id}/ping" not in pruned["paths"]
    assert "get" in pruned["paths"]["/v1/health"]
    kept = pruned["components"]["schemas"]["Webhook"]
    assert "description" not in kept["properties"]
    assert "description" not in kept.get("required", [])
    assert set(kept["properties"]) == set(webhook) - {"description"}
    # And a deprecated operation without a sunset date is kept
    paths["/v1/categories"]["get"]["deprecated"] = True
    assert "get" in without_sunset(released, TODAY)["paths"]["/v1/categories"]


def test_the_changelog_records_the_released_and_the_current_version() -> None:
    # Given the CHANGELOG and the versions of the current and the released documents
    changelog = (CURRENT.parents[2] / "CHANGELOG.md").read_text()
    released = _released()["info"]["version"]
    version = current["info"]["version"]
    # Then both are semantic versions, each with its release in the CHANGELOG
    for each in (released, version):
        assert re.fullmatch(r"\d+\.\d+\.\d+", each)
        assert re.search(rf"^## {re.escape(each)} \(\d{{4}}-\d{{2}}-\d{{2}}\)$", changelog, re.M)
    # And the current document is not older than the released one
    assert tuple(map(int, version.split("."))) >= tuple(map(int, released.split(".")))
