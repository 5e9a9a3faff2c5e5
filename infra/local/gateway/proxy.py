"""The Lambda proxy integration both ways: a request into a REST API proxy event, as API
Gateway builds it, and the function's result back into a response.

Text is decoded strictly: a path or query that is not percent-encoded UTF-8 is refused 400
bad-request, and a text body (not a binary media type) that is not UTF-8 400 malformed-json,
rather than handing the function U+FFFD replacement characters it cannot tell from what
the client sent. API Gateway's own handling of invalid UTF-8 is not documented; refusing
is the strict side of it.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import re
import time
import uuid
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, unquote

from catalog.core.errors import BadRequest, MalformedJson
from infra import topology
from infra.local.gateway.request import Refused
from infra.local.gateway.routes import GatewayRoute

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # would split or end a header line


def _split_headers(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def is_binary(content_type: str | None) -> bool:
    """Whether API Gateway hands this body to the function base64-encoded."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    return any(fnmatch.fnmatch(media_type, p) for p in topology.BINARY_MEDIA_TYPES)


def decode_path(path: str) -> str:
    """The path as API Gateway matches it: percent-decoded, once."""
    try:
        return unquote(path, errors="strict")
    except UnicodeDecodeError:
        raise Refused(BadRequest("The path is not percent-encoded UTF-8.")) from None


def _decode_body(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        detail = f"The request body is not valid UTF-8 (byte {error.start})."
        raise Refused(MalformedJson(detail)) from None


def proxy_event(
    route: GatewayRoute,
    path_parameters: dict[str, str],
    method: str,
    raw_path: str,
    query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    client_ip: str,
    stage: str,
    claims: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST API Lambda proxy event, as API Gateway builds it; `Refused` for text that is
    not UTF-8."""
    single, multi = _split_headers(headers)
    try:
        query_pairs = parse_qsl(query, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise Refused(BadRequest("The query string is not percent-encoded UTF-8.")) from None
    multi_query: dict[str, list[str]] = {}
    for name, value in query_pairs:
        multi_query.setdefault(name, []).append(value)
    content_type = next((v for k, v in single.items() if k.lower() == "content-type"), None)
    binary = is_binary(content_type)
    text_body: str | None
    if not body:
        text_body = None
    elif binary:
        text_body = base64.b64encode(body).decode()
    else:
        text_body = _decode_body(body)
    now = time.time()
    request_id = str(uuid.uuid4())
    host = next((v for k, v in single.items() if k.lower() == "host"), "127.0.0.1")
    user_agent = next((v for k, v in single.items() if k.lower() == "user-agent"), None)
    resource = route.path
    return {
        "resource": resource,
        "path": raw_path,
        "httpMethod": method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": dict(query_pairs) or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": request_id,
            "requestTime": formatdate(now, usegmt=True),
            "path": raw_path,
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": host.split(":")[0],
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {"sourceIp": client_ip, "userAgent": user_agent},
            "domainName": host,
            "apiId": "local",
            **({"authorizer": {"claims": claims}} if claims is not None else {}),
        },
        "body": text_body,
        "isBase64Encoded": bool(text_body) and binary,
    }


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def proxy_result(result: Any) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """The function's answer as (status, headers, body); None when API Gateway would call it
    a malformed Lambda proxy response (502): no status, a header that could not be sent as
    it is, a body that is not text or base64."""
    if not isinstance(result, dict):
        return None
    status = result.get("statusCode")
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
        return None
    single = {} if result.get("headers") is None else result["headers"]
    multi = {} if result.get("multiValueHeaders") is None else result["multiValueHeaders"]
    if not isinstance(single, dict) or not isinstance(multi, dict):
        return None
    merged: dict[str, list[str]] = {}
    for name, value in single.items():
        merged[name] = [str(value)]
    for name, values in multi.items():
        merged[name] = [str(v) for v in values] if isinstance(values, list) else [str(values)]
    headers = [(str(name), value) for name, values in merged.items() for value in values]
    for name, value in headers:
        if not _TOKEN.fullmatch(name) or _UNSAFE.search(value) or not _latin1(value):
            return None
    body = result.get("body") or ""
    if not isinstance(body, str):
        return None
    try:
        payload = (
            base64.b64decode(body, validate=True)
            if result.get("isBase64Encoded")
            else body.encode()
        )
    except binascii.Error:
        return None
    return status, headers, payload
