"""REST API Lambda proxy events, built from a request as API Gateway builds them."""

from __future__ import annotations

import base64
import fnmatch
import time
import uuid
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

from infra import topology
from infra.local.gateway.routes import GatewayRoute


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
    """A REST API Lambda proxy event, as API Gateway builds it."""
    single, multi = _split_headers(headers)
    query_pairs = parse_qsl(query, keep_blank_values=True)
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
        text_body = body.decode("utf-8", "replace")
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
