"""Secrets never reach the logs: tokens, passwords and Authorization values are masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from catalog.core.observability import REDACTED, logger

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the catalog logger writes, through its own JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_tokens_passwords_and_authorization_are_masked(log_output: io.StringIO) -> None:
    logger.warning(
        f"calling with {JWT} and Bearer opaque-token-123",
        extra={"password": "hunter2-Secret!", "authorization": f"Bearer {JWT}", "sku": "MUG-1"},
    )
    written = log_output.getvalue()
    assert '"level":"WARNING"' in written
    for secret in (JWT, "opaque-token-123", "hunter2-Secret!"):
        assert secret not in written
    assert "[REDACTED]" in written
    assert "MUG-1" in written  # ordinary fields are kept


def test_presigned_signatures_and_session_tokens_are_masked(log_output: io.StringIO) -> None:
    url = (
        "http://127.0.0.1:4566/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Signature=0badc0ffee1234&X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE"
    )
    logger.warning(
        f"fetching {url}",
        extra={"upload": {"fields": {"key": "uploads/p/i", "x-amz-signature": "deadbeef99"}}},
    )
    written = log_output.getvalue()
    for secret in ("0badc0ffee1234", "FwoGZXIvYXdzEXAMPLE", "deadbeef99"):
        assert secret not in written
    assert "uploads/p/i" in written and "X-Amz-Algorithm=AWS4-HMAC-SHA256" in written


@pytest.fixture
def at_debug() -> Iterator[None]:
    """The logger at DEBUG, where the request line (with the body) is written."""
    before = logger.log_level
    logger.setLevel("DEBUG")
    yield
    logger.setLevel(before)


SECRET = "whsec_s3cr3t-Value"  # a value that must never be written


@pytest.mark.parametrize(
    "fields",
    [
        {"secret": SECRET},
        {"Secret": SECRET},
        {"SECRET": SECRET},
        {"webhook_secret": SECRET},
        {"client-secret": SECRET},
        {"new_password": SECRET},
        {"p\\u0061ssword": SECRET},  # a name still JSON-escaped
        {"nested": {"x-api-key": SECRET, "list": [{"Cookie": SECRET}]}},
    ],
)
def test_secret_fields_are_masked_in_extra_values(
    log_output: io.StringIO, fields: dict[str, Any]
) -> None:
    # Given a record whose extra fields hold a secret under a sensitive name
    # When it is logged
    logger.warning("saving", extra={"context": fields, "sku": "MUG-1"})
    # Then the secret is masked and ordinary fields are kept
    written = log_output.getvalue()
    assert SECRET not in written
    assert REDACTED in written and "MUG-1" in written


@pytest.mark.parametrize(
    "body",
    [
        '{"email": "a@example.com", "password": "' + SECRET + '"}',
        '{"email": "a@example.com", "p\\u0061ssword": "' + SECRET + '"}',
        '{"email": "a@example.com", "\\u0070\\u0061\\u0073\\u0073\\u0077\\u006f\\u0072\\u0064": "'
        + SECRET
        + '"}',
        '{"email": "a@example.com", "PassWord": "' + SECRET + '"}',
        '{"url": "https://hooks.example.com/in", "secret": "' + SECRET + '"}',
        '{"secret": ["' + SECRET + '", {"a": "' + SECRET + '"}]}',
        '{"code": 918273, "note": "sent"}',
        '{"data": ' + json.dumps(json.dumps({"secret": SECRET})) + "}",  # JSON in JSON
        '{"email": "a@example.com", "p\\u0061ssword": "' + SECRET,  # truncated: not JSON
        '{"password": "quote\\" ' + SECRET + '", "email": "a',  # an escaped quote, truncated
        "[" * 100 + '{"secret": "' + SECRET + '"}' + "]" * 100,  # deeper than MAX_DEPTH
    ],
)
def test_secrets_in_a_json_request_body_are_masked_at_debug(
    log_output: io.StringIO, at_debug: None, body: str
) -> None:
    # Given a request whose JSON body holds a secret, its name escaped or not
    event = {"httpMethod": "POST", "resource": "/v1/auth/login", "body": body}
    # When the request line is written at DEBUG, as the pipeline writes it
    logger.debug({"request": event})
    # Then neither the secret nor the one-time code is written
    written = log_output.getvalue()
    assert '"level":"DEBUG"' in written
    assert SECRET not in written and "918273" not in written
    assert "/v1/auth/login" in written


def test_the_request_line_of_the_pipeline_masks_an_escaped_password(
    log_output: io.StringIO, at_debug: None
) -> None:
    # Given a function whose request pipeline logs each request at DEBUG
    from tests.unit.test_http import call

    # When a request arrives whose body spells "password" with an escape
    call(
        "POST",
        "/things",
        '{"p\\u0061ssword": "' + SECRET + '"}',
        **{"content-type": "application/json"},
    )
    # Then the request line was written, without the password
    written = log_output.getvalue()
    assert '"request"' in written and "/things" in written
    assert SECRET not in written


@pytest.mark.parametrize(
    "message",
    [
        "body " + json.dumps({"secret": SECRET}),
        "repr {'password': '" + SECRET + "', 'sku': 'MUG-1'}",
        json.dumps({"body": json.dumps({"password": SECRET})}),
        "upload https://b.s3.amazonaws.com/k?x-amz-signature=" + SECRET + "&x=1",
        "redirect=https%3A%2F%2Fb%2Fk%3FX-Amz-Signature%3D" + SECRET + "%26X-Amz-Date%3D1",
        json.dumps({"url": "https://b/k?X-Amz-Security-Token=" + SECRET + "&X-Amz-Date=1"}),
    ],
)
def test_secrets_in_message_text_are_masked(log_output: io.StringIO, message: str) -> None:
    # Given a message whose text carries JSON, a repr or a presigned URL with a secret
    # When it is logged
    logger.warning(message)
    # Then the secret is masked
    assert SECRET not in log_output.getvalue()


def test_secrets_in_format_arguments_are_masked(log_output: io.StringIO) -> None:
    # Given secrets passed as %-format arguments, positional and by name
    logger.warning("login %s", json.dumps({"password": SECRET}))
    logger.warning("login %(secret)s for %(sku)s", {"secret": SECRET, "sku": "MUG-1"})
    # Then they are masked, and the other argument kept
    written = log_output.getvalue()
    assert SECRET not in written and "MUG-1" in written


def test_a_json_body_without_secrets_is_written_as_it_came(
    log_output: io.StringIO, at_debug: None
) -> None:
    # Given a body with no sensitive field, in its own spacing
    body = '{"sku": "MUG-1",  "price": {"amount": "12.50", "currency": "EUR"}, "key": "k/1"}'
    # When it is logged / Then it is written unchanged (ids, prices and S3 keys included)
    logger.debug({"request": {"body": body}})
    assert json.dumps(body) in log_output.getvalue()


@pytest.mark.parametrize("depth", [600, 100_000])
def test_a_deeply_nested_body_is_logged_without_error(
    log_output: io.StringIO, at_debug: None, depth: int
) -> None:
    # Given a body nested just within the JSON decoder's recursion limit, or far beyond it
    body = "[" * depth + '{"a": 1}' + "]" * depth
    # When it is logged / Then the record is written (the filter did not raise)
    logger.debug({"request": {"body": body}})
    assert '"level":"DEBUG"' in log_output.getvalue()


@pytest.mark.parametrize(
    "text",
    [
        "email=a%40example.com&password=" + SECRET,
        "email=a%40example.com&p%61ssword=" + SECRET,  # the name percent-encoded
        "callback https://app.example.com/cb?state=s&code=" + SECRET,
        "https://hooks.example.com/in?webhook_secret=" + SECRET + "&x=1",
    ],
)
def test_sensitive_form_and_query_fields_are_masked(log_output: io.StringIO, text: str) -> None:
    # Given a form-encoded body or a URL whose query names a secret
    # When it is logged
    logger.warning(text, extra={"retry": "retry_in_s=30"})
    # Then the secret is masked and other fields are kept
    written = log_output.getvalue()
    assert SECRET not in written
    assert "retry_in_s=30" in written
