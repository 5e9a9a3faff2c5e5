"""Unexpected errors in the stack: counted per fingerprint, and saved queries to read them."""

from __future__ import annotations

from typing import Any

import pytest

from infra import topology
from infra.stack.monitoring import UNEXPECTED_ERRORS

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def test_every_function_s_unexpected_errors_are_counted_per_fingerprint(dev: Any) -> None:
    filters = {
        r["Properties"]["LogGroupName"]["Ref"]: r["Properties"]
        for r in dev.of_type("AWS::Logs::MetricFilter").values()
        if r["Properties"]["MetricTransformations"][0]["MetricName"] == UNEXPECTED_ERRORS
    }
    function_groups = {
        name: dev.function(name)["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        for name in topology.FUNCTIONS
    }
    # One filter on each function's log group, matching the lines that carry a fingerprint
    assert set(filters) == set(function_groups.values())
    for properties in filters.values():
        assert properties["FilterPattern"] == '{ $.fingerprint = "*" }'
        (metric,) = properties["MetricTransformations"]
        assert metric["MetricNamespace"] == topology.METRICS_NAMESPACE
        assert metric["MetricValue"] == "1"
        assert {d["Key"]: d["Value"] for d in metric["Dimensions"]} == {
            "Fingerprint": "$.fingerprint",
            "Function": "$.function_name",
        }


def test_saved_queries_cover_top_errors_slow_routes_and_one_request_s_story(dev: Any) -> None:
    queries = {
        r["Properties"]["Name"]: r["Properties"]
        for r in dev.of_type("AWS::Logs::QueryDefinition").values()
    }
    assert set(queries) == {
        "catalog-dev/top-errors",
        "catalog-dev/slowest-routes",
        "catalog-dev/request-story",
    }
    function_groups = {
        dev.function(name)["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        for name in topology.FUNCTIONS
    }
    (access_logs,) = [
        k for k in dev.of_type("AWS::Logs::LogGroup") if k.startswith("ApiAccessLogs")
    ]

    def groups(name: str) -> set[str]:
        return {g["Ref"] for g in queries[name]["LogGroupNames"]}

    top, slow, story = (
        queries[f"catalog-dev/{n}"] for n in ("top-errors", "slowest-routes", "request-story")
    )
    assert groups("catalog-dev/top-errors") == function_groups
    assert "by fingerprint" in top["QueryString"] and "sort errors desc" in top["QueryString"]
    assert groups("catalog-dev/slowest-routes") == {access_logs}
    assert "pct(responseLatency, 99)" in slow["QueryString"]
    assert groups("catalog-dev/request-story") == function_groups | {access_logs}
    assert 'correlation_id = "REQUEST_ID"' in story["QueryString"]
