"""Export jobs against in-memory fakes: who exports what, the listing's filters and order,
the file streamed in parts, resumed at its checkpoints, and given up cleanly."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from catalog.core.errors import Forbidden, NotFound, ValidationFailed
from catalog.exports.schemas import ExportRequest
from catalog.exports.service import FAILED_DETAIL, ExportService
from catalog.exports.storage import export_key
from catalog.exports.writer import PartWriter, encode, header
from catalog.identity.principal import Principal
from catalog.products.columns import COLUMNS, restore
from catalog.products.schemas import Product, ProductCreate, ProductQuery
from catalog.products.service import ProductService
from tests.conftest import product_payload
from tests.fakes import InMemoryExportJobs, InMemoryFiles, InMemoryProductStore, RecordingQueue

EDITOR = Principal(sub="editor-1", role="editor")
OTHER_EDITOR = Principal(sub="editor-2", role="editor")
ADMIN = Principal(sub="admin-1", role="admin")
PART = 1024  # bytes: small parts, so a few dozen products make several
PAGE = 5  # products per listing read (parts end where a page does)


@pytest.fixture(autouse=True)
def _signed_cursors(signing_key: None) -> None:
    """Listings page with signed cursors."""


class World:
    def __init__(self) -> None:
        self.store = InMemoryProductStore()
        self.products = ProductService(self.store)
        self.jobs = InMemoryExportJobs()
        self.files = InMemoryFiles()
        self.queue = RecordingQueue()
        self.exports = ExportService(
            self.jobs, self.store, self.files, self.queue, part_size=PART, page_size=PAGE
        )

    def add(self, count: int, by: Principal = EDITOR, **overrides: object) -> list[Product]:
        return [
            self.products.create(ProductCreate.model_validate(product_payload(**overrides)), by)
            for _ in range(count)
        ]

    def start(self, by: Principal = ADMIN, **request: object) -> str:
        return self.exports.start(ExportRequest.model_validate(request), by).id

    def file(self, job_id: str) -> bytes:
        job = self.jobs.get(job_id)
        return self.files.files[export_key(job.id, job.format)]

    def rows(self, job_id: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(self.file(job_id).decode())))

    def listing(self, query: ProductQuery, by: Principal = ADMIN) -> list[str]:
        """Every product id of the listing, page after page (pages of 7)."""
        ids: list[str] = []
        query = query.model_copy(update={"limit": 7})
        while True:
            page = self.products.list(query, by)
            ids += [p.id for p in page.items]
            if page.next_cursor is None:
                return ids
            query = query.model_copy(update={"cursor": page.next_cursor})


@pytest.fixture
def world() -> World:
    return World()


def test_a_job_is_recorded_pending_and_queued(world: World) -> None:
    # When an admin starts an export
    job = world.exports.start(ExportRequest(format="jsonl"), ADMIN)
    # Then it is pending, with nothing written, and its id is on the queue
    assert (job.status, job.rows, job.download_url) == ("pending", 0, None)
    assert world.queue.sent == [job.id]


def test_a_job_whose_message_cannot_be_sent_is_not_left_behind(world: World) -> None:
    class Down:
        def send(self, job_id: str) -> None:
            raise ConnectionError("SQS went away")

    exports = ExportService(world.jobs, world.store, world.files, Down())
    with pytest.raises(ConnectionError):
        exports.start(ExportRequest(), ADMIN)
    assert world.jobs.jobs == {}


def test_the_file_is_the_listing_in_several_parts(world: World) -> None:
    # Given 40 products (more than one part's worth)
    world.add(40)
    job_id = world.start()
    # When the worker runs the job
    assert world.exports.run(job_id) == "done"
    # Then the file holds the header and every product, in the listing's order
    rows = world.rows(job_id)
    assert [r["id"] for r in rows] == world.listing(ProductQuery())
    assert list(rows[0]) == list(COLUMNS)
    # And it went up in several parts, each but the last at least a part's size
    sizes = world.files.part_sizes
    assert len(sizes) >= 3 and all(size >= PART for size in sizes[:-1])
    # And the job is done with its counts, and a download link
    job = world.exports.get(job_id, ADMIN)
    assert (job.status, job.rows, job.size) == ("done", 40, len(world.file(job_id)))
    assert job.download_url is not None and job.download_expires_at is not None


def test_held_bytes_never_exceed_a_part_and_a_page(world: World) -> None:
    # Given a writer whose sink records what it holds at each upload
    held: list[int] = []

    class Sink:
        def upload_part(self, number: int, data: bytes) -> str:
            held.append(len(data))
            return str(number)

    writer = PartWriter(Sink(), part_size=PART)
    page = encode("csv", world.add(10))
    # When pages are written, flushing whenever a part is full
    for _ in range(20):
        writer.write(page)
        if writer.full:
            writer.flush()
    writer.flush()
    # Then no part held more than a part and one page, and nothing was lost
    assert max(held) < PART + len(page)
    assert sum(held) == 20 * len(page)
    assert [n for n, _ in writer.parts] == list(range(1, len(held) + 1))


@pytest.mark.parametrize(
    "filters",
    [
        {"category": "garden"},
        {"tags": ["blue"], "sort": "price"},
        {"tags": ["blue", "red"], "tag_mode": "all", "sort": "-name"},
        {"min_price": "5", "max_price": "20", "sort": "-price"},
        {"in_stock": True, "sort": "name"},
        {"q": "lamp", "category": "kitchen"},
        {"status": "draft"},
    ],
    ids=lambda f: ",".join(f),
)
def test_filters_and_order_are_the_listings(world: World, filters: dict[str, object]) -> None:
    # Given products that each filter splits
    for n in range(30):
        world.add(
            1,
            name=f"{'lamp' if n % 3 else 'mug'} {n}",
            category="garden" if n % 4 == 0 else "kitchen",
            tags=[t for t, every in (("blue", 2), ("red", 3)) if n % every == 0],
            price=str(Decimal(n) + Decimal("0.50")),
            stock=n % 2,
            status="draft" if n % 5 == 0 else "active",
        )
    # When an admin exports with the filters
    job_id = world.start(**filters)
    world.exports.run(job_id)
    # Then the file holds exactly what the listing with the same filters holds, in order
    query = ExportRequest.model_validate(filters).query()
    expected = world.listing(query)
    assert expected, "the filter should keep some products"
    assert [r["id"] for r in world.rows(job_id)] == expected


def test_filters_that_do_not_fit_together_are_refused_as_the_listing_refuses_them(
    world: World,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        world.start(min_price="20", max_price="5")
    assert refused.value.extensions["errors"][0] == {
        "in": "body",
        "pointer": "#/max_price",
        "detail": "max_price must not be below min_price",
        "type": "combination",
    }
    assert world.jobs.jobs == {} and world.queue.sent == []


def test_an_editor_exports_only_their_own_products(world: World) -> None:
    # Given products of two editors, active and drafts
    mine = world.add(3, EDITOR) + world.add(2, EDITOR, status="draft")
    world.add(4, OTHER_EDITOR)
    world.add(1, OTHER_EDITOR, status="draft")
    # When the first exports active products, then drafts
    active, drafts = world.start(EDITOR), world.start(EDITOR, status="draft")
    world.exports.run(active)
    world.exports.run(drafts)
    # Then each file holds only their own
    assert {r["id"] for r in world.rows(active)} == {p.id for p in mine[:3]}
    assert {r["id"] for r in world.rows(drafts)} == {p.id for p in mine[3:]}
    assert world.exports.get(active, EDITOR).own_products_only is True
    # And an admin's export holds everyone's
    every = world.start(ADMIN)
    world.exports.run(every)
    assert len(world.rows(every)) == 7


def test_a_job_is_its_owners_and_the_admins(world: World) -> None:
    job_id = world.start(EDITOR)
    other = world.start(OTHER_EDITOR)
    assert world.exports.get(job_id, ADMIN).id == job_id
    with pytest.raises(Forbidden):
        world.exports.get(job_id, OTHER_EDITOR)
    with pytest.raises(NotFound):
        world.exports.get("not-an-id", EDITOR)
    # And listings: an editor sees their own, an admin everyone's (newest first)
    assert [j.id for j in world.exports.list(EDITOR).items] == [job_id]
    assert [j.id for j in world.exports.list(ADMIN).items] == [other, job_id]


def test_listing_jobs_pages_by_cursor(world: World) -> None:
    started = [world.start(ADMIN) for _ in range(5)]
    first = world.exports.list(ADMIN, limit=2)
    assert first.next_cursor is not None
    rest = world.exports.list(ADMIN, limit=10, cursor=first.next_cursor)
    assert [j.id for j in first.items + rest.items] == started[::-1]
    assert rest.next_cursor is None


def test_a_worker_that_fails_mid_file_resumes_at_its_checkpoint(world: World) -> None:
    # Given a job whose third part fails to upload once
    world.add(40)
    job_id = world.start(format="jsonl")
    world.files.fail_at_part = 3
    with pytest.raises(ConnectionError):
        world.exports.run(job_id)
    # Then the job is running, with its first parts recorded
    stopped = world.jobs.get(job_id)
    assert stopped.status == "running" and stopped.checkpoint is not None
    assert len(stopped.checkpoint.parts) == 2
    # When the message is delivered again
    assert world.exports.run(job_id) == "done"
    # Then the file holds every product once, in order
    lines = [json.loads(line) for line in world.file(job_id).decode().splitlines()]
    assert [line["id"] for line in lines] == world.listing(ProductQuery())
    assert world.jobs.get(job_id).rows == 40


def test_a_worker_short_of_time_hands_over_at_a_checkpoint(world: World) -> None:
    # Given a job and a worker with little time left
    world.add(40)
    job_id = world.start()
    # When it runs, Then it stops after its first part, recording where
    assert world.exports.run(job_id, time_left=lambda: 1.0) == "handed-over"
    assert world.jobs.get(job_id).checkpoint is not None
    assert world.jobs.get(job_id).status == "running"
    # And the next invocations carry on until the file is whole, the header once
    runs = 1
    while world.exports.run(job_id, time_left=lambda: 1.0) == "handed-over":
        runs += 1
    assert runs > 1
    rows = world.rows(job_id)
    assert [r["id"] for r in rows] == world.listing(ProductQuery())
    assert world.file(job_id).count(b"id,sku,name") == 1


def test_a_worker_that_stopped_after_completing_the_file_records_it_done(world: World) -> None:
    # Given a job whose file was completed but whose end could not be recorded
    world.add(12)
    job_id = world.start()
    world.jobs.fail_finish = True
    with pytest.raises(ConnectionError):
        world.exports.run(job_id)
    assert world.jobs.get(job_id).status == "running"
    written = world.file(job_id)
    # When the message is delivered again
    assert world.exports.run(job_id) == "done"
    # Then the job is done with the file as it was, nothing uploaded again
    job = world.exports.get(job_id, ADMIN)
    assert (job.rows, job.size) == (12, len(written))
    assert world.file(job_id) == written and world.files.uploads == {}


def test_a_message_for_a_finished_job_changes_nothing(world: World) -> None:
    world.add(3)
    job_id = world.start()
    world.exports.run(job_id)
    written = world.file(job_id)
    assert world.exports.run(job_id) == "skipped"
    assert world.exports.run("01JC0000000000000000000000") == "skipped"
    assert world.file(job_id) == written and len(world.files.uploads) == 0


def test_giving_up_marks_the_job_failed_and_drops_its_upload(world: World) -> None:
    world.add(40)
    job_id = world.start()
    world.files.fail_at_part = 2
    with pytest.raises(ConnectionError):
        world.exports.run(job_id)
    # When its retries are used up
    world.exports.give_up(job_id)
    # Then it is failed, says so, has no file, and its upload is aborted
    job = world.exports.get(job_id, ADMIN)
    assert (job.status, job.error, job.download_url) == ("failed", FAILED_DETAIL, None)
    assert world.files.uploads == {} and world.files.files == {}
    assert world.exports.run(job_id) == "skipped"


def test_an_empty_export_is_a_header_or_an_empty_file(world: World) -> None:
    csv_job, jsonl_job = world.start(category="nothing-here"), world.start(format="jsonl")
    world.exports.run(csv_job)
    world.exports.run(jsonl_job)
    assert world.file(csv_job) == header("csv")
    assert world.file(jsonl_job) == b""


def test_csv_text_starting_like_a_formula_is_neutralized_in_the_file(world: World) -> None:
    # Given a product named like a spreadsheet formula
    [product] = world.add(1, name='=HYPERLINK("http://evil.example")', description="@cmd")
    job_id = world.start()
    world.exports.run(job_id)
    # Then its cells start with a quote, and read back they are the product's text
    [row] = world.rows(job_id)
    assert row["name"].startswith("'=") and row["description"] == "'@cmd"
    assert restore(row["name"]) == product.name
    # And a JSON Lines export (no spreadsheet) holds the text as it is
    jsonl = world.start(format="jsonl")
    world.exports.run(jsonl)
    assert json.loads(world.file(jsonl))["name"] == product.name
