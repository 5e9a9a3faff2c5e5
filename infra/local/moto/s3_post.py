"""moto's S3 made to check browser-based uploads (presigned POST forms) as S3 does.

moto stores whatever a POST to a bucket carries: no policy, no signature, any key, any
size. Locally one editor could then overwrite another's pending upload or write into
`images/` (the public renditions), so upload tests would pass that S3 fails. Here every
POST Object request goes through `post_policy.refusal` first and is answered as S3 answers
when it breaks a rule; DeleteObjects (the other POST to a bucket, signed in its header) is
left to moto.

Which secret signs for which access key: S3 knows every key; locally the only credentials
are the ones configured in this process's environment (`AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; the local system's FAKE_CREDENTIALS, the
tests' own), which moto server shares since it runs in this process. They are read per
request, because the local system sets them after moto has started. Keys made in moto's
IAM or STS are not looked up: nothing in the project signs with them, and such a form is
refused as S3 refuses a key it does not know (InvalidAccessKeyId).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from infra.local.moto._patching import load, mark, require
from infra.local.moto.post_policy import Credential, Upload, refusal

CHECKED = "post-policy-checked"
_HANDLER = "_bucket_response_post"  # moto's POST to a bucket: DeleteObjects or POST Object


def now() -> datetime:
    """The clock the checks read (a test moves it on to see a form expire)."""
    return datetime.now(UTC)


def configured_credentials() -> dict[str, Credential]:
    """Access key -> what S3 would know of it: the environment's credentials, if any."""
    access_key = os.environ.get("AWS_ACCESS_KEY_ID")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not access_key or not secret:
        return {}
    return {access_key: Credential(secret, os.environ.get("AWS_SESSION_TOKEN") or None)}


def received(response: Any, request: Any, bucket: str) -> Upload:
    """The upload as moto server received it (its form parsed by werkzeug, its file read by
    moto's setup_class into `raw_body`, which is what moto then stores)."""
    form, files = request.form, request.files
    fields = {name: str(form.get(name, "")) for name in form if name != "file"}
    # Any part carrying a file counts as one: moto stores the last of them whatever its
    # name, so a second one would be stored unchecked. S3 also takes `file` as a plain
    # field.
    count = sum(len(files.getlist(name)) for name in files) + len(form.getlist("file"))
    body = response.raw_body
    size = len(body if isinstance(body, bytes) else str(body).encode())
    multipart = request.mimetype == "multipart/form-data"
    return Upload(bucket=bucket, fields=fields, files=count, size=size, multipart=multipart)


def _checked(post: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(post)
    def call(self: Any, request: Any, bucket_name: str) -> Any:
        # moto's own tests, in its order: no length (411), then DeleteObjects (`?delete`).
        if not request.headers.get("Content-Length") or "delete" in request.args:
            return post(self, request, bucket_name)
        refused = refusal(received(self, request, bucket_name), now(), configured_credentials())
        if refused is not None:
            return refused.status, {"content-type": "application/xml"}, refused.xml()
        return post(self, request, bucket_name)

    return mark(call, CHECKED)


def target() -> Any:
    """moto's S3 response class, checked to have what the patch replaces."""
    (response,) = load("moto.s3.responses", "S3Response")
    require(response, _HANDLER)
    return response


def patch(response: Any) -> None:
    """POST Object checked before moto stores anything (once: correctness.apply)."""
    setattr(response, _HANDLER, _checked(getattr(response, _HANDLER)))
