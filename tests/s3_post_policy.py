"""What S3 checks on a browser-based (presigned POST) upload, read independently of the patch.

The local S3 enforces these rules (infra/local/moto/post_policy.py); this is the tests' own
reading of S3's documentation, kept apart on purpose: tests/integration/test_local_s3_post.py
feeds the same good and tampered forms to both and requires the same verdicts, so a misread
rule has to be misread twice, differently written, to go unnoticed. It also lets a test say
offline why S3 would refuse a form (SigV4 signature over the policy, expiry, every condition
against the fields).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime
from typing import Any

# Fields S3 does not require the policy to name (besides any starting with x-ignore-).
UNCHECKED_FIELDS = frozenset({"policy", "x-amz-signature", "file"})
SIGNATURE_FIELDS = ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature")


def decode_policy(fields: dict[str, str]) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(base64.b64decode(fields["policy"]))
    return policy


def _signing_key(secret: str, date: str, region: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signature(policy: str, *, secret_key: str, credential: str) -> str:
    """The SigV4 signature of a base64 `policy` for `credential` (key/date/region/s3/...)."""
    _, date, region, _service, _ = credential.split("/")
    return hmac.new(
        _signing_key(secret_key, date, region), policy.encode(), hashlib.sha256
    ).hexdigest()


def _unchecked(name: str) -> bool:
    return name in UNCHECKED_FIELDS or name.startswith("x-ignore-") or name == "bucket"


def problems(
    fields: dict[str, str], *, bucket: str, file_size: int, now: datetime, secret_key: str
) -> list[str]:
    """Why S3 would refuse this form and a file of `file_size` bytes at `now` (empty: it
    would accept it)."""
    if "policy" not in fields:
        return ["no policy: an anonymous upload"]
    missing = [name for name in SIGNATURE_FIELDS if name not in fields]
    if missing:
        return [f"no field {name}" for name in missing]
    found: list[str] = []
    credential = fields["x-amz-credential"]
    if len(credential.split("/")) != 5 or not credential.endswith("/s3/aws4_request"):
        return ["malformed x-amz-credential"]
    expected = signature(fields["policy"], secret_key=secret_key, credential=credential)
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
            for name, wanted in condition.items():
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
        if name not in named and not _unchecked(name):
            found.append(f"field {name} is not allowed by the policy")
    return found


def s3_error(body: bytes) -> dict[str, str]:
    """An S3 error answer's elements (Code, Message, and those S3 adds for the code)."""
    # moto server's answer, from the server this test process started
    error = ElementTree.fromstring(body)  # noqa: S314
    return {element.tag: element.text or "" for element in error}
