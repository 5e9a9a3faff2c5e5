"""Reading import files: records and their offsets, the header, each row, whole-file refusals."""

from __future__ import annotations

import gzip
import io
import json

import pytest

from catalog.imports.chunks import plan
from catalog.imports.reading import MAX_ROW_BYTES, FileRefused, Record, records
from catalog.imports.rows import CsvLayout, known_columns, read_header, read_row
from catalog.products.schemas import ProductCreate
from tests.imports import COLUMNS, csv_bytes, jsonl_bytes, product_row

PROBLEM = "urn:catalog:problem:"


def reader(data: bytes, piece: int = 7) -> io.BytesIO:
    """A stream that answers in small pieces, as a network body may."""

    class Small(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            return super().read(min(piece, size) if size and size > 0 else piece)

    return Small(data)


def cut(data: bytes, declared: str = "csv", chunk_rows: int = 500, max_rows: int = 100_000):
    return plan(reader(data, 4096).read, declared, chunk_rows=chunk_rows, max_rows=max_rows)


def refusal(data: bytes, declared: str = "csv", **limits: int) -> dict[str, object]:
    with pytest.raises(FileRefused) as caught:
        cut(data, declared, **limits)
    return caught.value.problem.to_problem()


def row_of(data: bytes, layout: CsvLayout | None, number: int = 2):
    return read_row(Record(number, 0, len(data), data), layout)


LAYOUT = CsvLayout(",", COLUMNS)


# --- records ------------------------------------------------------------------------------


def test_records_know_where_they_are_and_keep_quoted_newlines_inside() -> None:
    # Given a CSV whose second record has a newline inside quotes, read in 7-byte pieces
    data = b'a,b\r\n"x\ny",2\r\nlast,3'
    # When it is cut into records
    found = list(records(reader(data).read, quoted=True))
    # Then each record's bytes are exactly its slice of the file
    assert [r.number for r in found] == [1, 2, 3]
    assert [data[r.start : r.end] for r in found] == [r.data for r in found]
    assert found[1].data == b'"x\ny",2\r\n'
    # And a record read again by its byte range alone is the same record
    again = list(
        records(
            reader(data[found[1].start :]).read, quoted=True, start=found[1].start, first_number=2
        )
    )
    assert again[0] == found[1]


def test_json_lines_records_end_at_every_newline() -> None:
    data = b'{"a": "x\\ny"}\n{"b": 1}\n'
    assert [r.data for r in records(reader(data).read, quoted=False)] == [
        b'{"a": "x\\ny"}\n',
        b'{"b": 1}\n',
    ]


def test_a_10_mb_row_is_reported_without_being_kept_and_the_next_row_is_read() -> None:
    # Given a row of 10 MB between two ordinary ones
    huge = b"x" * (10 * 1024 * 1024) + b"\n"
    data = b"first\n" + huge + b"after\n"
    # When it is cut into records
    found = list(records(reader(data, 65536).read, quoted=True))
    # Then the big one has no bytes kept, but its place, and the next row is whole
    assert [r.data for r in found] == [b"first\n", None, b"after\n"]
    assert found[1].end - found[1].start == len(huge)
    too_big = read_row(found[1], LAYOUT)
    assert too_big.values is None
    assert too_big.problems[0].type == PROBLEM + "payload-too-large"
    assert str(MAX_ROW_BYTES) in too_big.problems[0].detail


# --- the header ---------------------------------------------------------------------------


def test_a_bom_and_semicolons_are_understood() -> None:
    # Given a spreadsheet's export: BOM, semicolons, a decimal comma would be quoted
    data = b"\xef\xbb\xbf" + csv_bytes([product_row("A-1", price="12.50")], delimiter=";")
    # When it is planned, then its layout is read as the header says
    result = cut(data)
    assert result.layout == CsvLayout(";", COLUMNS)
    assert result.rows_total == 1


def test_commas_win_when_the_header_has_more_of_them() -> None:
    assert read_header(Record(1, 0, 0, b"sku,name,price,currency,category\r\n")).delimiter == ","


def test_unknown_columns_are_refused_with_the_known_ones_listed() -> None:
    problem = refusal(b"sku,name,price,currency,category,colour,weight\r\nA,b,1,EUR,c,red,3\r\n")
    assert problem["type"] == PROBLEM + "validation-error"
    assert "'colour'" in str(problem["detail"]) and "'weight'" in str(problem["detail"])
    assert ", ".join(known_columns()) in str(problem["detail"])
    assert [e["pointer"] for e in problem["errors"]] == ["#/header/colour", "#/header/weight"]


def test_a_missing_required_column_or_one_named_twice_is_refused() -> None:
    problem = refusal(b"sku,name,price,price,category\r\nA,b,1,1,c\r\n")
    assert "'price' appears twice" in str(problem["detail"])
    assert "'currency' is missing" in str(problem["detail"])


# --- rows ---------------------------------------------------------------------------------


def test_a_csv_row_becomes_what_the_api_would_take() -> None:
    # Given a row with quoted fields, a | list of tags, and empty optional cells
    data = b'"SKU-1","Mug, ""blue""","",12.50,EUR,kitchen,a | b,7,\r\n'
    # When it is read
    row = row_of(data, LAYOUT)
    # Then the values are the JSON the API takes; empty cells are absent fields
    assert row.values == {
        "sku": "SKU-1",
        "name": 'Mug, "blue"',
        "price": "12.50",
        "currency": "EUR",
        "category": "kitchen",
        "tags": ["a", "b"],
        "stock": 7,
    }
    product = ProductCreate.model_validate(row.values)
    assert (product.description, product.status) == ("", "draft")


def test_a_stock_that_is_not_a_whole_number_stays_text_for_the_schema_to_refuse() -> None:
    values = row_of(b"S,n,,1,EUR,c,,2.5,\r\n", LAYOUT).values
    assert values is not None and values["stock"] == "2.5"
    with pytest.raises(ValueError):
        ProductCreate.model_validate(values)


def test_a_short_row_names_the_missing_column() -> None:
    row = row_of(b"S-9,n,,1,EUR,c,,2\r\n", LAYOUT)
    assert row.values is None
    [problem] = row.problems
    assert (problem.sku, problem.field, problem.type) == (
        "S-9",
        "status",
        PROBLEM + "validation-error",
    )


def test_invalid_utf8_is_a_bad_row_not_a_bad_file() -> None:
    row = row_of(b"S-1,M\xffug,,1,EUR,c,,2,\r\n", LAYOUT, number=5)
    assert row.values is None
    assert row.problems[0].type == PROBLEM + "bad-request"
    assert "Row 5 is not UTF-8" in row.problems[0].detail


def test_json_lines_rows_are_parsed_as_strictly_as_request_bodies() -> None:
    assert row_of(b'{"sku": "A", "price": 1.5}\n', None).values == {
        "sku": "A",
        "price": pytest.approx(1.5),
    }
    assert (
        row_of(b'{"sku": "A", "sku": "B"}\n', None).problems[0].type == PROBLEM + "malformed-json"
    )
    assert row_of(b"[1, 2]\n", None).problems[0].type == PROBLEM + "malformed-json"
    assert row_of(b'{"price": 1e3}\n', None).values is None


def test_csv_injection_in_a_name_is_kept_as_text() -> None:
    values = row_of(b'S,"=HYPERLINK(""http://evil"")",,1,EUR,c,,1,\r\n', LAYOUT).values
    assert values is not None
    assert ProductCreate.model_validate(values).name == '=HYPERLINK("http://evil")'


# --- whole files --------------------------------------------------------------------------


def test_an_empty_file_and_a_header_only_are_refused_clearly() -> None:
    assert refusal(b"\r\n \n")["detail"] == "The file is empty: it has no header and no rows."
    header_only = refusal(csv_bytes([]))
    assert header_only["type"] == PROBLEM + "bad-request"
    assert "header row but no rows" in str(header_only["detail"])
    assert refusal(b"\n\n", "jsonl")["detail"] == "The file is empty: it has no header and no rows."
    assert refusal(b'{"sku": "A"}\n', "jsonl", max_rows=0)["type"] == PROBLEM + "payload-too-large"


@pytest.mark.parametrize(
    "data",
    [
        gzip.compress(b"sku,name\n" * 100_000),  # a gzip bomb: 900 kB in, nothing expanded
        bytes(range(256)) * 40,
        b"\x00\x01\x02binary\n" * 100,
    ],
    ids=["gzip-bomb", "binary-junk", "nul-bytes"],
)
def test_compressed_or_binary_files_are_refused_before_any_row(data: bytes) -> None:
    problem = refusal(data)
    assert problem["type"] == PROBLEM + "unsupported-media-type"
    assert problem["status"] == 415


def test_a_file_of_the_other_format_is_refused() -> None:
    as_csv = refusal(jsonl_bytes([{"sku": "A"}]), "csv")
    assert "looks like JSON" in str(as_csv["detail"])
    as_jsonl = refusal(csv_bytes([product_row("A-1")]), "jsonl")
    assert "not JSON Lines" in str(as_jsonl["detail"])


def test_more_rows_than_allowed_are_refused_before_anything_is_written() -> None:
    # Given a file one row over the limit (the limit is 100,000; here 50, same code path)
    data = csv_bytes([product_row(f"S-{n}") for n in range(51)])
    problem = refusal(data, max_rows=50)
    assert problem["type"] == PROBLEM + "payload-too-large"
    assert "more than 50 rows" in str(problem["detail"])


def test_a_plan_cuts_chunks_and_marks_later_rows_of_a_sku() -> None:
    # Given 7 rows, the 6th repeating the 2nd's SKU in another case, and a blank line
    rows = [product_row(f"S-{n}") for n in range(7)]
    rows[5]["sku"] = "s-1"
    data = csv_bytes(rows).replace(b"\r\nS-3", b"\r\n\r\nS-3")
    # When it is cut into chunks of 3 rows
    result = cut(data, chunk_rows=3)
    # Then blank lines are not rows, chunk ranges cover the data, and row 8 names row 3
    assert result.rows_total == 7
    assert [(c.first, c.last) for c in result.chunks] == [(2, 4), (6, 8), (9, 9)]
    assert [c.duplicates for c in result.chunks] == [{}, {8: 3}, {}]
    assert result.chunks[0].start == data.index(b"S-0")
    assert result.chunks[-1].end == len(data)


def test_jsonl_plan_reads_lines() -> None:
    data = jsonl_bytes([{"sku": "A"}, {"sku": "B"}, {"sku": "a"}])
    result = cut(data, "jsonl")
    assert result.rows_total == 3 and result.chunks[0].duplicates == {3: 1}
    assert json.loads(data.splitlines()[0]) == {"sku": "A"}
