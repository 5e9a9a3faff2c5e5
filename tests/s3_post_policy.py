"""What S3 checks on a browser-based (presigned POST) upload, for the tests: moto server
does not enforce POST policies, so the tests check the forms the API hands out as S3
would (SigV4 signature over the policy, expiry, and every condition against the fields).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

# Fields S3 does not require the policy to name.
UNCHECKED_FIELDS = frozenset({"policy", "x-amz-signature", "file"})


def decode_policy(fields: dict[str, str]) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(base64.b64decode(fields["policy"]))
    return policy


def _signing_key(secret: str, date: str, region: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def problems(
    fields: dict[str, str], *, bucket: str, file_size: int, now: datetime, secret_key: str
) -> list[str]:
    """Why S3 would refuse this form and a file of `file_size` bytes at `now` (empty: it
    would accept it)."""
    found: list[str] = []
    credential = fields.get("x-amz-credential", "")
    try:
        _, date, region, _service, _ = credential.split("/")
    except ValueError:
        return ["malformed x-amz-credential"]
    expected = hmac.new(
        _signing_key(secret_key, date, region), fields["policy"].encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, fields.get("x-amz-signature", "")):
        found.append("signature does not match the policy")
    policy = decode_policy(fields)
    expiration = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    if now >= expiration:
        found.append("policy expired")
    values = {name.lower(): value for name, value in fields.items()}
    values["bucket"] = bucket
    named: set[str] = set()
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            ((name, wanted),) = condition.items()
            name = name.lower()
            named.add(name)
            if values.get(name) != wanted:
                found.append(f"{name} does not match the policy")
        elif condition[0] == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if not low <= file_size <= high:
                found.append(f"file size {file_size} outside {low}..{high}")
        elif condition[0] == "eq":
            name = condition[1].lstrip("$").lower()
            named.add(name)
            if values.get(name) != condition[2]:
                found.append(f"{name} does not match the policy")
        elif condition[0] == "starts-with":
            name = condition[1].lstrip("$").lower()
            named.add(name)
            if not str(values.get(name, "")).startswith(condition[2]):
                found.append(f"{name} does not start as the policy says")
    for name in values:
        if name not in named and name not in UNCHECKED_FIELDS and name != "bucket":
            found.append(f"field {name} is not allowed by the policy")
    return found
