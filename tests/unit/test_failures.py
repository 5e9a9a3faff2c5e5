"""Unexpected errors are logged once each, with a fingerprint that groups their occurrences."""

from __future__ import annotations

import io
import json

from catalog.core.failures import describe
from tests.unit.test_http import call
from tests.unit.test_redaction import log_output as log_output  # the shared fixture


def raise_key_error() -> None:
    prices: dict[str, int] = {}
    prices["missing"]


def fail_here() -> BaseException:
    try:
        raise_key_error()
    except KeyError as error:
        return error
    raise AssertionError("no error")


def test_a_fingerprint_names_the_type_and_the_innermost_frame_of_our_code() -> None:
    # Given an error raised in a function of the catalog layer, called from a test
    from catalog.core.jsonutil import loads_request

    try:
        loads_request("{")
    except Exception as error:
        fingerprint, failure = describe(error)
        kind = type(error)
    # Then the fingerprint is 12 hex digits and the failure names the catalog's module and
    # function where it was raised (the test's own frames are not the catalog's code)
    assert len(fingerprint) == 12 and int(fingerprint, 16) >= 0
    assert (
        failure
        == f"{kind.__module__}.{kind.__qualname__} at catalog/core/jsonutil.py:loads_request"
    )


def test_the_same_failure_has_the_same_fingerprint_and_another_another() -> None:
    # Given the same failure twice, and a failure of another type
    first, second = describe(fail_here()), describe(fail_here())
    other = describe(ValueError("x"))
    # Then the first two share a fingerprint (no line numbers, no message), the third not
    assert first == second
    assert other[0] != first[0]
    assert other[1] == "ValueError"  # raised nowhere: no frame of ours


def test_an_unhandled_error_is_logged_once_with_its_fingerprint_and_route(
    log_output: io.StringIO,
) -> None:
    # When a route raises an exception nobody handles
    response = call("GET", "/boom")
    # Then the client gets a 500 problem, and the log one error line with the fingerprint
    assert response["statusCode"] == 500
    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    # (a local system started earlier on this worker logs from its own threads: its lines
    # name other routes, or none)
    (line,) = [e for e in lines if e["level"] == "ERROR" and e.get("route") == "GET /boom"]
    # (the fields the stack's metric filter counts by: infra/stack/monitoring.py)
    assert line["function_name"] == "test"
    assert (line["fingerprint"], line["failure"]) == describe(RuntimeError())
    assert "Traceback" in line["exception"]
