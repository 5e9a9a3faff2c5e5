"""instrument_api: metrics recorded during a request are flushed as EMF, even when it fails;
a request that records none prints nothing and warns nothing."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from catalog.core.observability import instrument_api, metrics


class Context:
    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-1"


EVENT = {"requestContext": {"requestId": "req-1"}}


def emf_lines(out: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line]


def test_a_recorded_metric_is_flushed_once(capsys: pytest.CaptureFixture[str]) -> None:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        metrics.add_metric(name="ThingDone", unit=MetricUnit.Count, value=1)
        return {"statusCode": 201}

    assert instrument_api(handler)(EVENT, Context()) == {"statusCode": 201}
    [emf] = emf_lines(capsys.readouterr().out)
    assert emf["ThingDone"] == [1.0]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "ThingDone", "Unit": "Count"}
    ]
    assert not metrics.metric_set  # cleared for the next request


def test_metrics_are_flushed_when_the_handler_raises(capsys: pytest.CaptureFixture[str]) -> None:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        metrics.add_metric(name="HalfDone", unit=MetricUnit.Count, value=1)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        instrument_api(handler)(EVENT, Context())
    [emf] = emf_lines(capsys.readouterr().out)
    assert "HalfDone" in emf


def test_a_request_without_metrics_prints_and_warns_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 200}

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        instrument_api(handler)(EVENT, Context())
    assert [str(w.message) for w in caught] == []
    assert emf_lines(capsys.readouterr().out) == []
