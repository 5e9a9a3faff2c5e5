"""Product images end to end: a real multipart POST to the presigned form, S3's event
through the queue to the images function, and the product listing the outcome.

The local S3 checks the forms as S3 does (infra/local/moto/s3_post.py), and the forms are
verified here as S3 verifies them too (tests/s3_post_policy.py). The processor checks every
file again, for one that reaches uploads/ another way: those are put there directly, as
any writer of the bucket could, to show it refuses them.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests
from PIL import Image

from tests import images
from tests.conftest import product_payload
from tests.e2e.conftest import Api
from tests.s3_post_policy import decode_policy, problems, s3_error
from tests.users import demo_user, new_user

MiB = 1024 * 1024
SECRET_KEY = "testing"  # the local system's fake credentials sign the forms


@pytest.fixture(scope="module")
def s3(local_system: Any) -> Any:
    return boto3.client("s3", endpoint_url=local_system.aws_url, region_name=local_system.region)


@pytest.fixture(scope="module")
def bucket(local_system: Any) -> str:
    return str(local_system.names["buckets"]["media"])


@pytest.fixture
def product_id(api: Api) -> str:
    response = api.post("/v1/products", json=product_payload())
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def ask(api: Api, product_id: str, content_type: str, length: int) -> requests.Response:
    return api.post(
        f"/v1/products/{product_id}/images",
        json={"content_type": content_type, "content_length": length},
    )


def upload(form: dict[str, Any], data: bytes, filename: str = "photo.jpg", **overrides: str) -> int:
    """POST the form's fields and the file as multipart/form-data, as a browser would."""
    fields = {**form["fields"], **overrides}
    content_type = fields.get("Content-Type", "application/octet-stream")
    response = requests.post(
        form["url"], data=fields, files={"file": (filename, data, content_type)}, timeout=30
    )
    return response.status_code


def settled(api: Api, product_id: str, image_id: str, timeout: float = 120) -> dict[str, Any]:
    """The image once it is no longer pending (the queue delivers within seconds; a loaded
    machine, with earlier tests' uploads queued first, may take longer)."""
    deadline = time.monotonic() + timeout
    while True:
        product = api.get(f"/v1/products/{product_id}").json()
        image = next(i for i in product["images"] if i["id"] == image_id)
        if image["status"] != "pending" or time.monotonic() > deadline:
            return dict(image)
        time.sleep(0.2)


def keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def put_directly(s3: Any, form: dict[str, Any], data: bytes, key: str | None = None) -> None:
    """Store a file at the form's key (or another) without the form, as any writer of the
    bucket could: S3 would refuse it through the form."""
    fields = form["fields"]
    bucket = form["url"].rstrip("/").rsplit("/", 1)[-1]
    s3.put_object(
        Bucket=bucket, Key=key or fields["key"], Body=data, ContentType=fields["Content-Type"]
    )


def upload_and_settle(
    api: Api,
    product_id: str,
    data: bytes,
    content_type: str,
    declared: int | None = None,
    s3: Any = None,
) -> dict[str, Any]:
    """Ask for a form and send the file with it (with `s3`: put it at the form's key
    directly, for a file the form would not let through), then wait until it is processed."""
    answer = ask(api, product_id, content_type, declared or len(data))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    if s3 is None:
        assert upload(body["upload"], data) in (200, 201, 204)
    else:
        put_directly(s3, body["upload"], data)
    return settled(api, product_id, body["image_id"])


# --- the happy path ---------------------------------------------------------------------


def test_a_photo_is_uploaded_processed_and_served_without_its_metadata(
    api: Api, anonymous: Api, s3: Any, bucket: str, product_id: str, local_system: Any
) -> None:
    # Given a 1600 x 1200 JPEG whose EXIF says "rotate 90°" and carries GPS coordinates
    data = images.photo(1600, 1200, orientation=6)
    # When the owner asks for a form and POSTs the file to it
    answer = ask(api, product_id, "image/jpeg", len(data))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert set(body) == {"image_id", "upload", "expires_at"}
    # And until the file arrives, the product lists the image as pending
    pending = anonymous.get(f"/v1/products/{product_id}").json()["images"]
    assert [(i["id"], i["status"]) for i in pending] == [(body["image_id"], "pending")]
    assert upload(body["upload"], data) == 204
    # Then the product lists it ready, upright, with two WebP renditions anyone can fetch
    image = settled(anonymous, product_id, body["image_id"])
    assert image["status"] == "ready", image
    assert (image["width"], image["height"]) == (1200, 1600)
    assert [(r["size"], r["width"], r["height"]) for r in image["renditions"]] == [
        (256, 192, 256),
        (1024, 768, 1024),
    ]
    # And each is a WebP of its size, stripped of every metadata
    for rendition in image["renditions"]:
        fetched = requests.get(rendition["url"], timeout=30)
        assert fetched.status_code == 200
        served = Image.open(io.BytesIO(fetched.content))
        assert (served.format, served.size) == ("WEBP", (rendition["width"], rendition["height"]))
        assert not served.getexif() and "icc_profile" not in served.info
        assert b"SecretCam" not in fetched.content
    # And only the renditions exist: the original upload is gone (the processor deletes it
    # right after recording the status, so once its event is done)
    local_system.drain_events(60)
    image_id = body["image_id"]
    assert keys(s3, bucket, f"uploads/{product_id}/") == []
    assert keys(s3, bucket, f"images/{product_id}/") == [
        f"images/{product_id}/{image_id}/1024.webp",
        f"images/{product_id}/{image_id}/256.webp",
    ]


@pytest.mark.parametrize(("fmt", "content_type"), [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_png_and_webp_are_accepted_too(
    api: Api, product_id: str, fmt: str, content_type: str
) -> None:
    # When the owner uploads a small PNG or WebP and it is processed
    image = upload_and_settle(api, product_id, images.photo(300, 200, fmt=fmt), content_type)
    # Then it is ready, at its own size
    assert (image["status"], image["width"], image["height"]) == ("ready", 300, 200)


# --- the form ---------------------------------------------------------------------------


def test_the_form_pins_key_type_size_and_a_short_expiry(
    api: Api, bucket: str, product_id: str
) -> None:
    # When the owner asks for a form for a 5000-byte PNG
    before = datetime.now(UTC)
    body = ask(api, product_id, "image/png", 5000).json()
    after = datetime.now(UTC)
    fields = body["upload"]["fields"]
    policy = decode_policy(fields)
    conditions = policy["conditions"]
    key = f"uploads/{product_id}/{body['image_id']}"
    # Then the form and its policy pin the bucket, the exact key and the content type
    assert fields["key"] == key and fields["Content-Type"] == "image/png"
    assert {"bucket": bucket} in conditions
    assert {"key": key} in conditions  # exact: not a starts-with
    assert {"Content-Type": "image/png"} in conditions
    # And the size, to at most the declared length
    assert ["content-length-range", 1, 5000] in conditions
    # And it is signed with AWS Signature Version 4
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    # And it expires five minutes after it was signed (during the request), as the answer
    # says (the policy's expiration is in whole seconds)
    expires = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    five = timedelta(minutes=5)
    assert before + five - timedelta(seconds=1) <= expires <= after + five
    took = after - before
    assert abs(datetime.fromisoformat(body["expires_at"]) - expires) <= took + timedelta(seconds=1)
    # And it passes S3's own check
    # S3 would accept it as issued, for a file of the declared size
    now = datetime.now(UTC)
    assert problems(fields, bucket=bucket, file_size=5000, now=now, secret_key=SECRET_KEY) == []


def test_s3_would_refuse_a_tampered_expired_or_oversize_form(
    api: Api, bucket: str, product_id: str
) -> None:
    # Given a form issued for a 5000-byte PNG
    fields = ask(api, product_id, "image/png", 5000).json()["upload"]["fields"]
    now = datetime.now(UTC)

    def refused(changed: dict[str, str], size: int = 5000, at: datetime = now) -> list[str]:
        return problems(changed, bucket=bucket, file_size=size, now=at, secret_key=SECRET_KEY)

    # When its key or content type is changed, the file is larger, or it has expired
    # Then S3 would refuse it, saying why
    other = f"uploads/{product_id}/01JC0000000000000000000000"
    assert refused({**fields, "key": other}) == ["key does not match the policy"]
    assert refused({**fields, "Content-Type": "text/html"}) == [
        "content-type does not match the policy"
    ]
    assert refused(fields, size=5001) == ["file size 5001 outside 1..5000"]
    assert refused(fields, at=now + timedelta(minutes=6)) == ["policy expired"]
    # When the policy itself is rewritten
    # A policy rewritten to allow 1 GiB no longer matches its signature
    policy = decode_policy(fields)
    policy["conditions"] = [
        ["content-length-range", 1, 1 << 30] if isinstance(c, list) else c
        for c in policy["conditions"]
    ]
    forged = base64.b64encode(json.dumps(policy).encode()).decode()
    # Then its signature no longer matches
    assert refused({**fields, "policy": forged}, size=1 << 29) == [
        "signature does not match the policy"
    ]
    # And a field the policy does not list is refused
    assert refused({**fields, "acl": "public-read"}) == ["field acl is not allowed by the policy"]


# --- what the API refuses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"content_type": "image/gif", "content_length": 100}, "#/content_type"),
        ({"content_type": "image/svg+xml", "content_length": 100}, "#/content_type"),
        ({"content_type": "text/plain", "content_length": 100}, "#/content_type"),
        ({"content_type": "image/jpeg", "content_length": 10 * MiB + 1}, "#/content_length"),
        ({"content_type": "image/jpeg", "content_length": 0}, "#/content_length"),
        ({"content_type": "image/jpeg", "content_length": "100"}, "#/content_length"),
        ({"content_type": "image/jpeg"}, "#/content_length"),
        ({"content_type": "image/jpeg", "content_length": 1, "key": "x"}, "#/key"),
    ],
    ids=["gif", "svg", "text", "oversize", "empty", "length-as-string", "no-length", "extra"],
)
def test_the_api_refuses_what_it_cannot_accept(
    api: Api, product_id: str, body: dict[str, Any], pointer: str
) -> None:
    # When the owner asks for an upload the API cannot accept
    response = api.post(f"/v1/products/{product_id}/images", json=body)
    # Then it is refused: 422, pointing at the bad field
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "urn:catalog:problem:validation-error"
    assert pointer in [e.get("pointer") for e in problem["errors"]]
    # And no image was added
    assert api.get(f"/v1/products/{product_id}").json()["images"] == []


def test_only_the_owner_or_an_admin_may_add_images(
    local_system: Any, api: Api, anonymous: Api, product_id: str
) -> None:
    # Given another editor, a viewer and an admin
    other_editor = api.as_user(new_user(local_system.url, "editor", tag="img-editor"))
    viewer = api.as_user(demo_user(local_system.url, "viewer"))
    admin = api.as_user(demo_user(local_system.url, "admin"))
    # When each, and an anonymous caller, asks to add an image to the editor's product
    # Then the other editor and the viewer are forbidden, the anonymous caller unauthorized
    assert ask(other_editor, product_id, "image/png", 100).status_code == 403
    assert ask(viewer, product_id, "image/png", 100).status_code == 403
    assert ask(anonymous, product_id, "image/png", 100).status_code == 401
    # And the admin is given a form
    assert ask(admin, product_id, "image/png", 100).status_code == 201
    # And a product that does not exist is not found: 404
    assert ask(api, "01JC0000000000000000000000", "image/png", 100).status_code == 404
    # And only the admin's image was added
    images_listed = api.get(f"/v1/products/{product_id}").json()["images"]
    assert len(images_listed) == 1


def test_a_product_has_at_most_ten_images(api: Api, product_id: str) -> None:
    # Given a product with ten images asked for
    ids = [ask(api, product_id, "image/png", 100).json()["image_id"] for _ in range(10)]
    # When an eleventh is asked for
    refused = ask(api, product_id, "image/png", 100)
    # Then it is refused as a conflict: 409
    assert refused.status_code == 409
    assert refused.json()["type"] == "urn:catalog:problem:conflict"
    # When one of the ten is deleted
    assert api.delete(f"/v1/products/{product_id}/images/{ids[0]}").status_code == 204
    # Then another can be added
    assert ask(api, product_id, "image/png", 100).status_code == 201


# --- what the processor refuses (through the form, or put there directly where S3 would
# --- refuse the form) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type", "declared", "reason", "direct"),
    [
        (b"I am a text file named photo.jpg\n" * 3, "image/jpeg", None, "not a JPEG", False),
        (
            images.truncated(images.photo(800, 600)),
            "image/jpeg",
            None,
            "truncated or corrupt",
            False,
        ),
        (images.png_bomb(), "image/png", None, "pixels", False),
        (images.zero_png(8000, 8000), "image/png", None, "pixels", False),
        (
            images.photo(fmt="PNG"),
            "image/jpeg",
            None,
            "image/png, but image/jpeg was declared",
            False,
        ),
        # over the declared size: S3 refuses it through the form (EntityTooLarge)
        (images.photo(400, 300), "image/jpeg", 1000, "at most 1000 were declared", True),
    ],
    ids=["text-named-jpg", "truncated", "bomb-header", "bomb-64mpx", "png-as-jpeg", "oversize"],
)
def test_bad_files_are_rejected_with_a_reason_and_never_readable(
    api: Api,
    s3: Any,
    bucket: str,
    product_id: str,
    data: bytes,
    content_type: str,
    declared: int | None,
    reason: str,
    direct: bool,
    local_system: Any,
) -> None:
    # When a file the processor must refuse reaches the upload's key, and it is processed
    image = upload_and_settle(
        api, product_id, data, content_type, declared, s3=s3 if direct else None
    )
    # Then the image is rejected, saying why
    assert image["status"] == "rejected", image
    assert reason in image["reason"]
    # And it has no renditions and no size
    assert image["renditions"] == [] and image["width"] is None
    # And once its event is done, neither the upload nor any rendition is stored
    local_system.drain_events(60)  # the original is deleted right after the status is recorded
    assert keys(s3, bucket, f"uploads/{product_id}/") == []
    assert keys(s3, bucket, f"images/{product_id}/") == []


def test_a_file_sent_to_an_image_nobody_asked_for_is_deleted_unread(
    api: Api, s3: Any, bucket: str, product_id: str
) -> None:
    # Given a file at an upload key nobody asked for (S3 refuses it through a changed form,
    # tested above; a writer of the bucket could still put it there)
    form = ask(api, product_id, "image/jpeg", 20_000).json()["upload"]
    stray = f"uploads/{product_id}/01JC0000000000000000000000"
    put_directly(s3, form, images.photo(), key=stray)
    # When the pump has delivered its event, the stray file is gone and nothing was made
    deadline = time.monotonic() + 30
    while keys(s3, bucket, stray) and time.monotonic() < deadline:
        time.sleep(0.2)
    # Then the stray file is gone and no rendition was made
    assert keys(s3, bucket, stray) == []
    assert keys(s3, bucket, f"images/{product_id}/") == []
    # And the image asked for is still pending
    listed = api.get(f"/v1/products/{product_id}").json()["images"]
    assert [i["status"] for i in listed] == ["pending"]


def test_a_second_upload_with_a_used_form_changes_nothing(
    api: Api, s3: Any, bucket: str, product_id: str
) -> None:
    # Given an image uploaded through its form and processed: ready
    answer = ask(api, product_id, "image/jpeg", 100_000).json()
    assert upload(answer["upload"], images.photo()) == 204
    ready = settled(api, product_id, answer["image_id"])
    assert ready["status"] == "ready"
    # When the form is used a second time
    # The same form again (within its expiry), with something else
    assert upload(answer["upload"], b"not an image at all") == 204
    # Then the second file is removed unread
    deadline = time.monotonic() + 30
    while keys(s3, bucket, f"uploads/{product_id}/") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert keys(s3, bucket, f"uploads/{product_id}/") == []
    # And the image is unchanged
    assert settled(api, product_id, answer["image_id"]) == ready


# --- removal ----------------------------------------------------------------------------


def test_deleting_an_image_removes_its_files(
    api: Api, anonymous: Api, s3: Any, bucket: str, product_id: str
) -> None:
    # Given a ready image
    image = upload_and_settle(api, product_id, images.photo(), "image/jpeg")
    assert image["status"] == "ready"
    path = f"/v1/products/{product_id}/images/{image['id']}"
    # When an anonymous caller deletes it
    # Then it is refused: 401
    assert anonymous.delete(path).status_code == 401
    # When the owner deletes it
    assert api.delete(path).status_code == 204
    # Then the product lists no image
    assert api.get(f"/v1/products/{product_id}").json()["images"] == []
    # And its renditions are gone from the bucket and from the CDN
    assert keys(s3, bucket, f"images/{product_id}/") == []
    assert requests.get(image["renditions"][0]["url"], timeout=30).status_code == 404
    # And deleting it again finds nothing: 404
    assert api.delete(path).status_code == 404


def test_deleting_a_product_removes_its_images(
    local_system: Any, api: Api, s3: Any, bucket: str, product_id: str
) -> None:
    # Given a product with two ready images, their four renditions stored
    first = upload_and_settle(api, product_id, images.photo(), "image/jpeg")
    second = upload_and_settle(api, product_id, images.photo(fmt="PNG"), "image/png")
    assert first["status"] == second["status"] == "ready"
    assert len(keys(s3, bucket, f"images/{product_id}/")) == 4
    # When the product is deleted
    assert api.delete(f"/v1/products/{product_id}").status_code == 204
    # Then, in time, its renditions are all removed
    # The removal reaches the images function through the table's stream, after every
    # earlier record of the stream (other tests' writes), hence the generous wait.
    try:
        local_system.events.wait_until(
            lambda: not keys(s3, bucket, f"images/{product_id}/"), timeout=90
        )
    except TimeoutError:
        pytest.fail(f"files left: {local_system.events.stats()}")


def test_only_renditions_are_served_never_uploads(
    local_system: Any, api: Api, s3: Any, bucket: str, product_id: str
) -> None:
    # Given objects in the bucket outside images/ (moto plays CloudFront: images/* only)
    base = f"{local_system.aws_url}/{bucket}"
    s3.put_object(Bucket=bucket, Key="private-probe.txt", Body=b"secret")
    answer = ask(api, product_id, "image/jpeg", 50_000).json()
    assert upload(answer["upload"], images.photo()) == 204
    upload_url = f"{base}/uploads/{product_id}/{answer['image_id']}"
    # Then anonymous readers get nothing outside images/: refused while it exists, later gone
    assert requests.get(f"{base}/private-probe.txt", timeout=30).status_code == 403
    assert requests.get(upload_url, timeout=30).status_code in (403, 404)
    # And once the upload is processed, it is gone while its rendition is served (the
    # processor records the image as ready, then deletes the upload: awaited briefly)
    image = settled(api, product_id, answer["image_id"])
    with contextlib.suppress(TimeoutError):
        local_system.events.wait_until(
            lambda: requests.get(upload_url, timeout=30).status_code == 404, timeout=30
        )
    assert requests.get(upload_url, timeout=30).status_code == 404
    assert requests.get(image["renditions"][0]["url"], timeout=30).status_code == 200
    s3.delete_object(Bucket=bucket, Key="private-probe.txt")


# --- what the local S3 refuses, as S3 does (infra/local/moto/s3_post.py) ---------------


def send(form: dict[str, Any], data: bytes, **overrides: str) -> tuple[int, dict[str, str]]:
    """POST as `upload` does; S3's status and, when it refuses, its error's elements."""
    fields = {**form["fields"], **overrides}
    content_type = fields.get("Content-Type", "application/octet-stream")
    response = requests.post(
        form["url"], data=fields, files={"file": ("photo.jpg", data, content_type)}, timeout=30
    )
    refused = response.status_code >= 300
    return response.status_code, s3_error(response.content) if refused else {}


def refusal(status: int, error: dict[str, str]) -> tuple[int, str, str]:
    return status, error.get("Code", ""), error.get("Message", "")


CONDITION_FAILED = "Invalid according to Policy: Policy Condition failed: "


def test_another_editor_cannot_overwrite_a_pending_upload_with_their_own_form(
    local_system: Any, api: Api, s3: Any, bucket: str, product_id: str
) -> None:
    # Given the editor's image, pending, and another editor with a form for their own product
    mine = ask(api, product_id, "image/jpeg", 100_000).json()
    rival = api.as_user(new_user(local_system.url, "editor", tag="img-rival"))
    rival_product = rival.post("/v1/products", json=product_payload()).json()["id"]
    theirs = ask(rival, rival_product, "image/jpeg", 100_000).json()["upload"]
    pending_key = mine["upload"]["fields"]["key"]
    # When the other editor sends their form with its key changed to the pending upload's
    status, error = send(theirs, images.photo(), key=pending_key)
    # Then S3 refuses it: 403, the key is not the one the policy signed
    assert refusal(status, error) == (
        403,
        "AccessDenied",
        f'{CONDITION_FAILED}["eq", "$key", "{theirs["fields"]["key"]}"]',
    )
    # And nothing was stored there: the image is still pending
    local_system.drain_events(60)  # had it been stored, its event would be done by now
    assert keys(s3, bucket, pending_key) == []
    assert settled(api, product_id, mine["image_id"], timeout=0)["status"] == "pending"
    # And the editor's own form still uploads, and the image becomes ready
    assert upload(mine["upload"], images.photo()) == 204
    assert settled(api, product_id, mine["image_id"])["status"] == "ready"


def test_a_form_cannot_write_into_the_public_renditions(
    api: Api, s3: Any, bucket: str, product_id: str
) -> None:
    # Given an editor's form for a pending image
    answer = ask(api, product_id, "image/jpeg", 100_000).json()
    rendition = f"images/{product_id}/{answer['image_id']}/1024.webp"
    # When its key is changed to where the CDN serves the image from
    status, error = send(answer["upload"], images.photo(fmt="WEBP"), key=rendition)
    # Then S3 refuses it: 403
    assert refusal(status, error)[:2] == (403, "AccessDenied")
    assert error["Message"].startswith(CONDITION_FAILED + '["eq", "$key", ')
    # And nothing was written under images/
    assert keys(s3, bucket, f"images/{product_id}/") == []


def test_a_form_used_after_it_expired_is_refused(
    local_system: Any,
    api: Api,
    s3: Any,
    bucket: str,
    product_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from infra.local.moto import s3_post

    # Given a form valid for five minutes
    answer = ask(api, product_id, "image/jpeg", 100_000).json()
    # When it is used six minutes later (the local S3's clock moved on)
    later = datetime.now(UTC) + timedelta(minutes=6)
    monkeypatch.setattr(s3_post, "now", lambda: later)
    status, error = send(answer["upload"], images.photo())
    # Then S3 refuses it: 403, the policy expired
    assert refusal(status, error) == (
        403,
        "AccessDenied",
        "Invalid according to Policy: Policy expired.",
    )
    # And nothing was stored: the image is still pending
    assert keys(s3, bucket, f"uploads/{product_id}/") == []
    local_system.drain_events(60)  # had it been stored, its event would be done by now
    assert settled(api, product_id, answer["image_id"], timeout=0)["status"] == "pending"


def test_a_file_larger_than_declared_is_refused_by_s3(
    local_system: Any, api: Api, s3: Any, bucket: str, product_id: str
) -> None:
    # Given a form for a 1000-byte JPEG
    answer = ask(api, product_id, "image/jpeg", 1000).json()
    data = images.photo(400, 300)
    assert len(data) > 1000
    # When a larger file is sent with it
    status, error = send(answer["upload"], data)
    # Then S3 refuses it: 400 EntityTooLarge, saying both sizes
    assert (status, error["Code"]) == (400, "EntityTooLarge")
    assert (error["ProposedSize"], error["MaxSizeAllowed"]) == (str(len(data)), "1000")
    # And nothing was stored: the image is still pending
    assert keys(s3, bucket, f"uploads/{product_id}/") == []
    local_system.drain_events(60)  # had it been stored, its event would be done by now
    assert settled(api, product_id, answer["image_id"], timeout=0)["status"] == "pending"


def test_a_file_of_another_content_type_is_refused_by_s3(
    api: Api, s3: Any, bucket: str, product_id: str
) -> None:
    # Given a form for a JPEG
    answer = ask(api, product_id, "image/jpeg", 100_000).json()
    # When it is sent as an HTML page
    status, error = send(
        answer["upload"], b"<script>alert(1)</script>", **{"Content-Type": "text/html"}
    )
    # Then S3 refuses it: 403, the content type is not the signed one
    assert refusal(status, error) == (
        403,
        "AccessDenied",
        f'{CONDITION_FAILED}["eq", "$Content-Type", "image/jpeg"]',
    )
    assert keys(s3, bucket, f"uploads/{product_id}/") == []


def test_a_form_whose_policy_or_signature_was_forged_is_refused(
    api: Api, s3: Any, bucket: str, product_id: str
) -> None:
    # Given a form for a 5000-byte PNG
    form = ask(api, product_id, "image/png", 5000).json()["upload"]
    # When its policy is rewritten to allow 1 GiB (its signature kept), or its signature
    # replaced
    policy = decode_policy(form["fields"])
    policy["conditions"] = [
        ["content-length-range", 1, 1 << 30] if isinstance(c, list) else c
        for c in policy["conditions"]
    ]
    widened = base64.b64encode(json.dumps(policy).encode()).decode()
    large = images.photo(1600, 1200, fmt="PNG")
    rewritten = send(form, large, policy=widened)
    forged = send(form, images.photo(fmt="PNG"), **{"x-amz-signature": "0" * 64})
    # Then S3 refuses both: 403 SignatureDoesNotMatch
    assert (rewritten[0], rewritten[1]["Code"]) == (403, "SignatureDoesNotMatch")
    assert (forged[0], forged[1]["Code"]) == (403, "SignatureDoesNotMatch")
    # And nothing was stored
    assert keys(s3, bucket, f"uploads/{product_id}/") == []


def test_a_post_with_no_policy_at_all_is_refused(
    local_system: Any, api: Api, s3: Any, bucket: str, product_id: str
) -> None:
    # Given the key of a pending image
    answer = ask(api, product_id, "image/jpeg", 100_000).json()
    key = answer["upload"]["fields"]["key"]
    # When a file is POSTed to the bucket with that key and no policy or signature
    response = requests.post(
        answer["upload"]["url"],
        data={"key": key, "Content-Type": "image/jpeg"},
        files={"file": ("photo.jpg", images.photo(), "image/jpeg")},
        timeout=30,
    )
    # Then S3 takes it as anonymous and refuses it: 403 AccessDenied
    assert refusal(response.status_code, s3_error(response.content)) == (
        403,
        "AccessDenied",
        "Access Denied",
    )
    # And nothing was stored: the image is still pending
    assert keys(s3, bucket, key) == []
    local_system.drain_events(60)  # had it been stored, its event would be done by now
    assert settled(api, product_id, answer["image_id"], timeout=0)["status"] == "pending"
