"""An import whose file never came: shown failed once its form can no longer be used.

The job stays `pending` in the table (nothing happens to it without a file); reading it
tells the truth from 15 minutes after its 5-minute form expired.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from catalog.identity.principal import Principal
from catalog.images.service import UPLOAD_FORM_TTL
from catalog.imports.records import ImportRepository
from catalog.imports.schemas import ImportRequest
from catalog.imports.service import ABANDONED_AFTER, ImportService
from catalog.imports.storage import ImportFiles

EDITOR = Principal(sub="abandoning-editor", role="editor")


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def test_a_job_whose_file_never_came_is_shown_failed_after_its_form_expired(
    local_system: Any,
) -> None:
    # Given an import requested, whose file is never uploaded
    clock = Clock()
    service = ImportService(ImportRepository(), ImportFiles(), clock)
    created = service.request_import(ImportRequest(format="csv", content_length=120), EDITOR)
    job_id = created.job.id
    # When it is read just before its form has been expired for 15 minutes
    clock.now += UPLOAD_FORM_TTL + ABANDONED_AFTER - timedelta(seconds=1)
    # Then it is still pending: a slow upload may still be arriving
    assert service.get(job_id, EDITOR).status == "pending"
    # When it is read just after
    clock.now += timedelta(seconds=2)
    job = service.get(job_id, EDITOR)
    # Then it is failed, with a problem that says why
    assert job.status == "failed"
    assert job.problem is not None
    assert job.problem["type"] == "urn:catalog:problem:bad-request"
    assert "not uploaded before the upload form expired" in job.problem["detail"]
    # And the listing of the editor's jobs shows it the same way
    listed = {j.id: j for j in service.list(EDITOR, 20, None).items}
    assert listed[job_id].status == "failed"
