"""What S3 checks on a browser-based upload (POST Object, SigV4 policy), answered as S3 answers.

Pure rules, no moto: `s3_post.py` feeds them what moto server received. They run in this
order and the first failure is the answer: the request (multipart, one file, a key, a
policy), then who signed it (the SigV4 fields, a known access key and its session token,
the signature over the base64 policy), then the policy (a valid document, not expired,
every condition met, no field it does not name), and the file's length last. Codes and
messages are S3's; a form that breaks one rule gets S3's answer, a form that breaks several
may be refused for another of them than S3 would name first.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

ALGORITHM = "AWS4-HMAC-SHA256"
SIGNATURE_FIELDS = ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature")
# S3's rule: every field must be named by a condition, except these and any `x-ignore-*`.
UNNAMED = frozenset({"policy", "x-amz-signature", "file"})
IGNORED_PREFIX = "x-ignore-"


@dataclass(frozen=True)
class Refusal:
    """An S3 error answer: the status, the code, the message and the elements S3 adds."""

    status: int
    code: str
    message: str
    details: tuple[tuple[str, str], ...] = ()

    def xml(self) -> str:
        extra = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in self.details)
        request_id = uuid.uuid4().hex[:16].upper()
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>{extra}"
            f"<RequestId>{request_id}</RequestId><HostId>{uuid.uuid4().hex}</HostId></Error>"
        )


@dataclass(frozen=True)
class Upload:
    """A POST Object request as S3 reads it."""

    bucket: str  # the bucket of the URL, which the policy's `bucket` condition is checked on
    fields: Mapping[str, str]  # every form field but the file, names as sent
    files: int  # how many parts carry a file (S3 takes exactly one, named `file`)
    size: int  # the file's length in bytes
    multipart: bool  # sent as multipart/form-data


@dataclass(frozen=True)
class Credential:
    """What S3 knows of an access key: its secret and, for temporary keys, the session token."""

    secret: str
    token: str | None = None


class _Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def refusal(upload: Upload, now: datetime, credentials: Mapping[str, Credential]) -> Refusal | None:
    """S3's answer refusing `upload` at `now`, or None: S3 stores the file."""
    try:
        values = _form(upload)
        _signed(values, credentials)
        _allowed(values, upload, now)
    except _Refused as refused:
        return refused.refusal
    return None


def _refuse(status: int, code: str, message: str, **details: str | int) -> _Refused:
    named = tuple((name, str(value)) for name, value in details.items())
    return _Refused(Refusal(status, code, message, named))


def _missing(field: str) -> _Refused:
    return _refuse(
        400,
        "InvalidArgument",
        f"Bucket POST must contain a field named '{field}'.  If it is specified, please "
        "check the order of the fields.",
        ArgumentName=field,
        ArgumentValue="",
    )


def _invalid_policy(why: str) -> _Refused:
    return _refuse(400, "InvalidPolicyDocument", f"Invalid Policy: {why}")


def _denied(why: str) -> _Refused:
    return _refuse(403, "AccessDenied", f"Invalid according to Policy: {why}")


def _form(upload: Upload) -> dict[str, str]:
    """The fields by lower-case name (S3 matches field names regardless of case)."""
    if not upload.multipart:
        raise _refuse(
            412,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
            Condition="Bucket POST must be of the enclosure-type multipart/form-data",
        )
    if upload.files != 1:
        raise _refuse(
            400,
            "IncorrectNumberOfFilesInPostRequest",
            "POST requires exactly one file upload per request.",
        )
    values = {name.lower(): value for name, value in upload.fields.items()}
    if "key" not in values:
        raise _missing("key")
    if "policy" not in values:
        # Unsigned: an anonymous upload, which only a bucket policy granting anonymous
        # writes lets through; no bucket of this project grants one.
        raise _refuse(403, "AccessDenied", "Access Denied")
    return values


def signing_key(secret: str, date: str, region: str) -> bytes:
    """SigV4's signing key for S3 on `date` (YYYYMMDD) in `region`."""
    key = ("AWS4" + secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _signed(values: Mapping[str, str], credentials: Mapping[str, Credential]) -> None:
    for name in SIGNATURE_FIELDS:
        if name not in values:
            raise _missing(name)
    algorithm = values["x-amz-algorithm"]
    if algorithm != ALGORITHM:
        raise _refuse(
            400,
            "InvalidArgument",
            f"Unsupported x-amz-algorithm: only {ALGORITHM} is supported",
            ArgumentName="x-amz-algorithm",
            ArgumentValue=algorithm,
        )
    scope = values["x-amz-credential"].split("/")
    if len(scope) != 5 or scope[3:] != ["s3", "aws4_request"]:
        raise _refuse(
            400,
            "InvalidArgument",
            "Invalid credential: expected <access key>/<date>/<region>/s3/aws4_request",
            ArgumentName="x-amz-credential",
            ArgumentValue=values["x-amz-credential"],
        )
    access_key, date, region = scope[:3]
    credential = credentials.get(access_key)
    if credential is None:
        raise _refuse(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            AWSAccessKeyId=access_key,
        )
    if credential.token is not None and values.get("x-amz-security-token") != credential.token:
        raise _refuse(400, "InvalidToken", "The provided token is malformed or otherwise invalid.")
    policy = values["policy"]
    expected = hmac.new(signing_key(credential.secret, date, region), policy.encode(), "sha256")
    if not hmac.compare_digest(expected.hexdigest(), values["x-amz-signature"]):
        raise _refuse(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            AWSAccessKeyId=access_key,
            StringToSign=policy,
            SignatureProvided=values["x-amz-signature"],
        )


def _document(policy: str) -> dict[str, Any]:
    try:
        document = json.loads(base64.b64decode(policy, validate=True))
    except (binascii.Error, ValueError) as error:
        raise _invalid_policy("Invalid JSON.") from error
    if not isinstance(document, dict):
        raise _invalid_policy("Invalid JSON.")
    return document


def _expiration(document: Mapping[str, Any]) -> datetime:
    if "expiration" not in document:
        raise _invalid_policy("Policy missing expiration.")
    value = document["expiration"]
    try:
        # ISO 8601 in GMT: S3 takes it with or without fractions of a second.
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as error:
        raise _invalid_policy(f"Invalid 'expiration' value: '{value}'") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _conditions(document: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """(operator, field as written, value) per condition; the length range as its own."""
    conditions = document.get("conditions")
    if not isinstance(conditions, list):
        raise _invalid_policy("Policy missing conditions.")
    found: list[tuple[str, str, Any]] = []
    for condition in conditions:
        if isinstance(condition, dict) and condition:
            found.extend(("eq", f"${name}", value) for name, value in condition.items())
        elif isinstance(condition, list) and len(condition) == 3:
            operator = str(condition[0]).lower()
            if operator == "content-length-range":
                try:
                    found.append((operator, "", (int(condition[1]), int(condition[2]))))
                except (TypeError, ValueError) as error:
                    raise _invalid_policy("Invalid content-length-range.") from error
            elif operator in ("eq", "starts-with") and str(condition[1]).startswith("$"):
                found.append((operator, str(condition[1]), condition[2]))
            else:
                raise _invalid_policy(f"Invalid Condition: {json.dumps(condition)}")
        else:
            raise _invalid_policy(f"Invalid Simple-Condition: {json.dumps(condition)}")
    return found


def _allowed(values: Mapping[str, str], upload: Upload, now: datetime) -> None:
    document = _document(values["policy"])
    expires = _expiration(document)
    conditions = _conditions(document)
    if now >= expires:
        raise _denied("Policy expired.")
    checked = {**values, "bucket": upload.bucket}
    named: set[str] = {"bucket"}
    lengths: list[tuple[int, int]] = []
    for operator, written, wanted in conditions:
        if operator == "content-length-range":
            lengths.append(wanted)
            continue
        name = written[1:].lower()
        named.add(name)
        value = checked.get(name)
        if operator == "eq":
            met = value == wanted
        else:  # starts-with: an absent field starts with ""
            met = isinstance(wanted, str) and (value or "").startswith(wanted)
        if not met:
            raise _denied(f"Policy Condition failed: {json.dumps([operator, written, wanted])}")
    sent = {name.lower(): name for name in upload.fields}
    extra = [
        sent[name]
        for name in values
        if name not in named and name not in UNNAMED and not name.startswith(IGNORED_PREFIX)
    ]
    if extra:
        raise _denied(f"Extra input fields: {', '.join(extra)}")
    for low, high in lengths:
        if upload.size > high:
            raise _refuse(
                400,
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                ProposedSize=upload.size,
                MaxSizeAllowed=high,
            )
        if upload.size < low:
            raise _refuse(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
                ProposedSize=upload.size,
                MinSizeAllowed=low,
            )
