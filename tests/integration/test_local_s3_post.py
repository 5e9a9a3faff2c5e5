"""The local S3 refuses presigned POST uploads as S3 does, and agrees with the tests' oracle.

Each form is built by boto3 (as the API builds its own) and then tampered with; it is
POSTed to moto server, patched as the local system patches it, and checked offline by
tests/s3_post_policy.py. Both must give S3's verdict: one reading of the rules cannot
drift from the other unnoticed.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from moto.server import ThreadedMotoServer

from tests.s3_post_policy import decode_policy, problems, s3_error, signature

LIMIT = 5000  # the forms' declared length, as the API declares the image's


@dataclass(frozen=True)
class Answer:
    status: int
    code: str  # "" when stored
    message: str
    error: dict[str, str] = field(default_factory=dict)  # every element of S3's error

    @property
    def verdict(self) -> str:
        """What S3 said, as the oracle's problems are summed up (`_verdict`)."""
        if self.status in (200, 201, 204):
            return "stored"
        if self.code == "AccessDenied":
            why = self.message.removeprefix("Invalid according to Policy: ")
            return f"AccessDenied: {why.split(': ')[0]}"
        return self.code


@pytest.fixture(scope="module")
def aws_url() -> Iterator[str]:
    from infra.local.moto import apply_correctness

    apply_correctness()  # as the local system does
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def client(aws_url: str, **credentials: str) -> Any:
    """A client of its own session: boto3's default session keeps the credentials it found
    first, and a local system started on this worker later adds a session token to the
    environment, which the local S3 then expects (it reads the environment at each check)."""
    config = Config(signature_version="s3v4")  # as catalog.images.storage signs
    return boto3.session.Session().client(
        "s3", endpoint_url=aws_url, region_name="us-east-1", config=config, **credentials
    )


@pytest.fixture
def s3(aws_url: str) -> Any:
    """A client of the environment's credentials as they are now (see `client`)."""
    return client(aws_url)


@pytest.fixture(scope="module")
def buckets(aws_url: str) -> tuple[str, str]:
    """The bucket the forms are for, and another one."""
    names = (f"media-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}")
    for name in names:
        client(aws_url).create_bucket(Bucket=name)
    return names


def form(
    s3: Any,
    bucket: str,
    key: str,
    *,
    expires_in: int = 300,
    conditions: list[Any] | None = None,
) -> dict[str, Any]:
    """A form shaped as MediaBucket.presigned_post shapes it, for a PNG of 1..LIMIT bytes."""
    post: dict[str, Any] = s3.generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Fields={"Content-Type": "image/png"},
        Conditions=conditions
        or [{"Content-Type": "image/png"}, ["content-length-range", 1, LIMIT]],
        ExpiresIn=expires_in,
    )
    return post


def post(url: str, fields: dict[str, str], data: bytes, **files: Any) -> Answer:
    """POST the fields and the file as a browser does (multipart/form-data, file last)."""
    sent = files or {"file": ("photo.png", data, fields.get("Content-Type", "image/png"))}
    response = requests.post(url, data=fields, files=sent, timeout=30)
    if response.status_code in (200, 201, 204):
        return Answer(response.status_code, "", "")
    error = s3_error(response.content)
    return Answer(response.status_code, error["Code"], error["Message"], error)


def _verdict(found: list[str], size: int) -> str:
    """The oracle's problems, as S3 would answer the first of them."""
    if not found:
        return "stored"
    first = found[0]
    if first.startswith("no policy"):
        return "AccessDenied: Access Denied"
    if first.startswith("no field") or first.startswith("malformed"):
        return "InvalidArgument"
    if first.startswith("signature"):
        return "SignatureDoesNotMatch"
    if first == "policy expired":
        return "AccessDenied: Policy expired."
    if first.startswith("field "):
        return "AccessDenied: Extra input fields"
    if first.startswith("file size"):
        return "EntityTooLarge" if size > LIMIT else "EntityTooSmall"
    return "AccessDenied: Policy Condition failed"


def stored(s3: Any, bucket: str) -> list[str]:
    listing = s3.list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


@dataclass(frozen=True)
class Case:
    """A form as issued or tampered with: (url, fields, bytes sent, bucket posted to)."""

    build: Callable[[Any, str, str], tuple[str, dict[str, str], bytes]]
    verdict: str  # S3's answer
    to_other_bucket: bool = False


def _issued(change: Callable[[dict[str, str]], dict[str, str]], size: int = LIMIT) -> Any:
    def build(s3: Any, bucket: str, key: str) -> tuple[str, dict[str, str], bytes]:
        issued = form(s3, bucket, key)
        return issued["url"], change(dict(issued["fields"])), b"\x89" * size

    return build


def _widened(fields: dict[str, str]) -> dict[str, str]:
    """The policy rewritten to allow 1 GiB, its signature kept."""
    policy = decode_policy(fields)
    policy["conditions"] = [
        ["content-length-range", 1, 1 << 30] if isinstance(c, list) else c
        for c in policy["conditions"]
    ]
    return {**fields, "policy": base64.b64encode(json.dumps(policy).encode()).decode()}


def _built(
    expires_in: int = 300,
    conditions: list[Any] | None = None,
    key: str | None = None,
    change: Callable[[dict[str, str]], dict[str, str]] = dict,
    secret: str | None = None,
) -> Any:
    def build(s3: Any, bucket: str, own_key: str) -> tuple[str, dict[str, str], bytes]:
        signer = s3
        if secret is not None:  # the same access key (and session token), another secret
            token = os.environ.get("AWS_SESSION_TOKEN")
            signer = client(
                s3.meta.endpoint_url,
                aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=secret,
                **({"aws_session_token": token} if token else {}),
            )
        issued = form(signer, bucket, key or own_key, expires_in=expires_in, conditions=conditions)
        return issued["url"], change(dict(issued["fields"])), b"\x89" * 100

    return build


CONDITION = "AccessDenied: Policy Condition failed"
PREFIX = [{"Content-Type": "image/png"}, ["content-length-range", 1, LIMIT]]
CASES = {
    "as-issued": Case(_issued(dict), "stored"),
    "one-byte": Case(_issued(dict, size=1), "stored"),
    "field-names-in-another-case": Case(
        _issued(lambda f: {k.lower() if k == "Content-Type" else k: v for k, v in f.items()}),
        "stored",
    ),
    "x-ignore-field": Case(_issued(lambda f: {**f, "x-ignore-note": "free"}), "stored"),
    "starts-with-key": Case(_built(key="uploads/p/${filename}", conditions=PREFIX), "stored"),
    "another-pending-upload": Case(_issued(lambda f: {**f, "key": "uploads/p/other"}), CONDITION),
    "into-images": Case(_issued(lambda f: {**f, "key": "images/p/i/1024.webp"}), CONDITION),
    "starts-with-key-moved": Case(
        _built(
            key="uploads/p/${filename}",
            conditions=PREFIX,
            change=lambda f: {**f, "key": "images/${filename}"},
        ),
        CONDITION,
    ),
    "content-type": Case(_issued(lambda f: {**f, "Content-Type": "text/html"}), CONDITION),
    "eq-content-type": Case(
        _built(
            conditions=[["eq", "$Content-Type", "image/png"], *PREFIX[1:]],
            change=lambda f: {**f, "Content-Type": "image/svg+xml"},
        ),
        CONDITION,
    ),
    "another-bucket": Case(_issued(dict), CONDITION, to_other_bucket=True),
    "one-byte-over": Case(_issued(dict, size=LIMIT + 1), "EntityTooLarge"),
    "empty-file": Case(_issued(dict, size=0), "EntityTooSmall"),
    "expired": Case(_built(expires_in=-60), "AccessDenied: Policy expired."),
    "policy-widened": Case(_issued(_widened, size=LIMIT * 2), "SignatureDoesNotMatch"),
    "signature-forged": Case(
        _issued(lambda f: {**f, "x-amz-signature": "0" * 64}), "SignatureDoesNotMatch"
    ),
    "signed-with-another-secret": Case(_built(secret="not-the-secret"), "SignatureDoesNotMatch"),
    "extra-acl": Case(
        _issued(lambda f: {**f, "acl": "public-read"}), "AccessDenied: Extra input fields"
    ),
    "extra-metadata": Case(
        _issued(lambda f: {**f, "x-amz-meta-owner": "me"}), "AccessDenied: Extra input fields"
    ),
    "no-policy": Case(_issued(lambda f: {"key": f["key"]}), "AccessDenied: Access Denied"),
    "malformed-credential": Case(
        _issued(lambda f: {**f, "x-amz-credential": "testing/20260101/us-east-1"}),
        "InvalidArgument",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_local_s3_and_the_oracle_give_s3s_verdict_on_each_form(
    name: str, s3: Any, buckets: tuple[str, str]
) -> None:
    case = CASES[name]
    mine, other = buckets
    target = other if case.to_other_bucket else mine
    key = f"uploads/p/{uuid.uuid4().hex}"
    # Given a form for `key` in the media bucket, as issued or tampered with
    url, fields, data = case.build(s3, mine, key)
    url = url.rsplit("/", 1)[0] + f"/{target}"
    before = stored(s3, target)
    # When the oracle checks it offline and the local S3 is sent it
    found = problems(
        fields,
        bucket=target,
        file_size=len(data),
        now=datetime.now(UTC),
        secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )
    answer = post(url, fields, data)
    # Then both give S3's verdict
    assert (_verdict(found, len(data)), answer.verdict) == (case.verdict, case.verdict), found
    # And the file is stored exactly when it is accepted, under the key the form names
    added = sorted(set(stored(s3, target)) - set(before))
    expected = fields["key"].replace("${filename}", "photo.png")
    assert added == ([expected] if case.verdict == "stored" else [])


# --- what only the local S3 is asked: the request itself, who signed, the policy document --


def test_a_form_that_is_not_multipart_or_carries_no_single_file_is_refused(
    s3: Any, buckets: tuple[str, str]
) -> None:
    bucket = buckets[0]
    # Given a valid form
    issued = form(s3, bucket, f"uploads/p/{uuid.uuid4().hex}")
    url, fields = issued["url"], issued["fields"]
    # When it is sent url-encoded, with no file, or with a second file part
    urlencoded = requests.post(url, data={**fields, "file": "data"}, timeout=30)
    no_file = post(url, fields, b"", **{"x-ignore-nothing": (None, "")})  # multipart, no file
    two_files = post(
        url, fields, b"", file=("a.png", b"1", "image/png"), other=("b.png", b"2", "image/png")
    )
    # Then S3's answers: 412 (multipart only), 400 (exactly one file)
    assert urlencoded.status_code == 412
    assert s3_error(urlencoded.content)["Code"] == "PreconditionFailed"
    assert (no_file.status, no_file.code) == (400, "IncorrectNumberOfFilesInPostRequest")
    assert (two_files.status, two_files.code) == (400, "IncorrectNumberOfFilesInPostRequest")
    # And nothing was stored
    assert fields["key"] not in stored(s3, bucket)


@pytest.mark.parametrize("field_name", ["key", "x-amz-signature", "x-amz-credential"])
def test_a_form_missing_a_required_field_is_refused_naming_it(
    field_name: str, s3: Any, buckets: tuple[str, str]
) -> None:
    # Given a valid form without one of the fields S3 requires
    issued = form(s3, buckets[0], f"uploads/p/{uuid.uuid4().hex}")
    fields = {k: v for k, v in issued["fields"].items() if k != field_name}
    # When it is sent
    answer = post(issued["url"], fields, b"\x89" * 10)
    # Then it is refused as S3 refuses it: 400 InvalidArgument, naming the field
    assert (answer.status, answer.code) == (400, "InvalidArgument")
    assert answer.error["ArgumentName"] == field_name


def test_a_form_signed_by_a_key_s3_does_not_know_is_refused(
    aws_url: str, buckets: tuple[str, str]
) -> None:
    # Given a form signed with the right secret for an access key that is not configured
    stranger = client(aws_url, aws_access_key_id="someone-else", aws_secret_access_key="testing")
    issued = form(stranger, buckets[0], f"uploads/p/{uuid.uuid4().hex}")
    # When it is sent
    answer = post(issued["url"], issued["fields"], b"\x89" * 10)
    # Then S3 does not know the key: 403 InvalidAccessKeyId
    assert (answer.status, answer.code) == (403, "InvalidAccessKeyId")
    assert answer.error["AWSAccessKeyId"] == "someone-else"


def test_temporary_credentials_need_their_session_token(
    aws_url: str, s3: Any, buckets: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given temporary credentials configured (the local system's have a session token)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "the-session-token")
    signer = client(
        aws_url,
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        aws_session_token="the-session-token",
    )
    key = f"uploads/p/{uuid.uuid4().hex}"
    issued = form(signer, buckets[0], key)
    fields = issued["fields"]
    # When the form is sent with another token, and then as issued
    other = post(issued["url"], {**fields, "x-amz-security-token": "another"}, b"\x89" * 10)
    as_issued = post(issued["url"], fields, b"\x89" * 10)
    # Then the other token is refused (400 InvalidToken) and the form as issued stores
    assert (other.status, other.code) == (400, "InvalidToken")
    assert as_issued.status == 204
    assert key in stored(s3, buckets[0])


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"not json", "Invalid Policy: Invalid JSON."),
        (b'{"conditions": []}', "Invalid Policy: Policy missing expiration."),
        (b'{"expiration": "2999-01-01T00:00:00Z"}', "Invalid Policy: Policy missing conditions."),
        (
            b'{"expiration": "2999-01-01T00:00:00Z", "conditions": [["in", "$key", "k"]]}',
            'Invalid Policy: Invalid Condition: ["in", "$key", "k"]',
        ),
    ],
    ids=["not-json", "no-expiration", "no-conditions", "unknown-operator"],
)
def test_a_signed_policy_that_is_no_policy_document_is_refused(
    document: bytes, message: str, s3: Any, buckets: tuple[str, str]
) -> None:
    # Given a form whose policy is replaced by another document, signed as S3 requires
    issued = form(s3, buckets[0], f"uploads/p/{uuid.uuid4().hex}")
    fields = dict(issued["fields"])
    fields["policy"] = base64.b64encode(document).decode()
    fields["x-amz-signature"] = signature(
        fields["policy"],
        secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        credential=fields["x-amz-credential"],
    )
    # When it is sent
    answer = post(issued["url"], fields, b"\x89" * 10)
    # Then it is refused as an invalid policy document: 400
    assert (answer.status, answer.code, answer.message) == (400, "InvalidPolicyDocument", message)


def test_refusals_of_size_say_the_sizes_and_expiry_follows_the_clock(
    s3: Any, buckets: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra.local.moto import s3_post

    # Given a form for at most LIMIT bytes, valid for five minutes
    issued = form(s3, buckets[0], f"uploads/p/{uuid.uuid4().hex}")
    url, fields = issued["url"], issued["fields"]
    # When a file one byte too large is sent
    large = post(url, fields, b"\x89" * (LIMIT + 1))
    # Then S3's answer names the proposed and the allowed size
    assert (large.status, large.code) == (400, "EntityTooLarge")
    assert (large.error["ProposedSize"], large.error["MaxSizeAllowed"]) == ("5001", "5000")
    # When the local S3's clock is six minutes on
    later = datetime.now(UTC) + timedelta(minutes=6)
    monkeypatch.setattr(s3_post, "now", lambda: later)
    expired = post(url, fields, b"\x89" * 10)
    # Then the form has expired: 403
    assert (expired.status, expired.code, expired.message) == (
        403,
        "AccessDenied",
        "Invalid according to Policy: Policy expired.",
    )


def test_delete_objects_the_other_post_to_a_bucket_is_left_to_moto(
    s3: Any, buckets: tuple[str, str]
) -> None:
    # Given an object
    key = f"uploads/p/{uuid.uuid4().hex}"
    s3.put_object(Bucket=buckets[0], Key=key, Body=b"1")
    # When it is deleted with DeleteObjects (POST ?delete, signed in its header, no form)
    answer = s3.delete_objects(Bucket=buckets[0], Delete={"Objects": [{"Key": key}]})
    # Then it is gone
    assert [d["Key"] for d in answer["Deleted"]] == [key]
    assert key not in stored(s3, buckets[0])
