"""Validation rules of product bodies: what is accepted, what is refused, how it is written."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from catalog.products.schemas import ProductCreate, ProductPatch
from tests.conftest import product_payload


def errors_of(**overrides: Any) -> list[str]:
    try:
        ProductCreate.model_validate(product_payload(**overrides))
    except ValidationError as exc:
        return [".".join(str(p) for p in e["loc"]) for e in exc.errors()]
    return []


def test_a_complete_body_is_accepted_with_exact_price() -> None:
    product = ProductCreate.model_validate(product_payload(price=Decimal("19.99")))
    assert product.price == Decimal("19.99")
    assert isinstance(product.price, Decimal)


def test_defaults_fill_optional_fields() -> None:
    body = {"sku": "A-1", "name": "Mug", "price": "3", "currency": "EUR", "category": "kitchen"}
    product = ProductCreate.model_validate(body)
    assert (product.description, product.tags, product.stock, product.status) == (
        "",
        [],
        0,
        "draft",
    )


@pytest.mark.parametrize(
    "price", ["19.99", Decimal("0.01"), 1000000, "1000000.00", Decimal("100"), 7, "0.5", "007.50"]
)
def test_valid_prices(price: Any) -> None:
    assert errors_of(price=price) == []


@pytest.mark.parametrize(
    "price",
    [0, -1, "-0.01", "1.234", Decimal("0.001"), "1000000.01", 1.5, True, "abc", "NaN", "Infinity"],
)
def test_invalid_prices_are_refused(price: Any) -> None:
    assert errors_of(price=price) == ["price"]


@pytest.mark.parametrize(
    "price",
    [
        "1e2",  # exponent: Decimal() reads it as 100
        "1E2",
        Decimal("1E+2"),  # what the JSON number 1e2 parsed to before the parser refused it
        "\uff15",  # a full-width 5
        "\u0661\u0662",  # Arabic-Indic 12
        "1_000",  # a separator Decimal() ignores
        "+5",
        " 5",
        "5 ",
        "5\n",
        "5.",
        ".5",
        "5.000",  # three places as written, though worth 5
        Decimal("5.000"),
        "0x10",
        "",
    ],
)
def test_prices_in_any_notation_but_plain_decimal_digits_are_refused(price: Any) -> None:
    # Given a product whose price is written in a notation other than plain decimal digits
    # When it is validated
    # Then the price is refused
    assert errors_of(price=price) == ["price"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "   "),
        ("name", "x" * 201),
        ("name", "bad\x00name"),
        ("name", "tab\tinside"),
        ("name", "gpj\u202eexe.jpg"),  # a bidi override
        ("name", "Mu\u200bg"),  # a zero-width space
        ("name", "Mug\ufeff"),
        ("name", "\u3164"),  # a Hangul filler: a name drawn as nothing
        ("name", "two\u2028lines"),
        ("name", "bad \ufffd bytes"),
        ("description", "x" * 5001),
        ("description", "bell\x07"),
        ("description", "reads \u2067backwards\u2069"),
        ("description", "bad \ufffd bytes"),
        ("sku", "has space"),
        ("sku", "-leading-dash"),
        ("sku", "x" * 65),
        ("currency", "eur"),
        ("currency", "XXX"),
        ("category", "Not A Slug"),
        ("tags", [f"t{i}" for i in range(21)]),
        ("tags", ["dup", "dup"]),
        ("tags", ["\uff54ag"]),  # a full-width letter
        ("stock", -1),
        ("stock", "5"),
        ("stock", True),
        ("stock", 1.5),
        ("stock", Decimal("5.5")),
        ("status", "published"),
    ],
)
def test_invalid_fields_are_refused(field: str, value: Any) -> None:
    assert errors_of(**{field: value})[0].startswith(field)


def test_unknown_fields_are_refused() -> None:
    assert errors_of(colour="red") == ["colour"]


def test_text_is_trimmed_and_nfc_normalized_and_descriptions_keep_newlines() -> None:
    product = ProductCreate.model_validate(
        product_payload(name="  Cafe\u0301 mug  ", description="line one\r\nline two")
    )
    assert product.name == "Caf\u00e9 mug"
    assert product.description == "line one\nline two"


def test_price_is_written_as_a_two_place_string() -> None:
    from catalog.products.schemas import Product

    product = Product.model_validate(
        {
            **product_payload(price=Decimal("5")),
            "id": "01JAAAAAAAAAAAAAAAAAAAAAAA",
            "owner": "editor-sub",
            "created_at": "2026-01-02T03:04:05.678Z",
            "updated_at": "2026-01-02T03:04:05.678Z",
            "version": 1,
        }
    )
    dumped = product.model_dump(mode="json")
    assert dumped["price"] == "5.00"
    assert dumped["created_at"] == "2026-01-02T03:04:05.678Z"


def test_a_patch_lists_only_the_fields_sent() -> None:
    patch = ProductPatch.model_validate({"price": "9.50", "tags": []})
    assert patch.changes() == {"price": Decimal("9.50"), "tags": []}


@pytest.mark.parametrize("body", [{}, {"name": None}, {"extra": 1}, {"price": "0"}])
def test_invalid_patches_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ProductPatch.model_validate(body)


@pytest.mark.parametrize("lax", ["true", "yes", "on", 1, 0, "1", "false"])
def test_booleans_in_bodies_are_json_booleans_only(lax: Any) -> None:
    from catalog.products.schemas import BatchRequest
    from catalog.users.schemas import AdminUserPatch
    from catalog.webhooks.schemas import WebhookPatch

    # Given bodies whose boolean field holds something that is not a JSON boolean
    operations = [{"op": "delete", "id": "x"}]
    bodies = [
        (BatchRequest, "atomic", {"atomic": lax, "operations": operations}),
        (AdminUserPatch, "enabled", {"enabled": lax}),
        (WebhookPatch, "active", {"active": lax}),
    ]
    for model, field, body in bodies:
        # When each is validated
        with pytest.raises(ValidationError) as caught:
            model.model_validate(body)
        # Then it is refused for that field
        assert [e["loc"] for e in caught.value.errors()] == [(field,)]


def test_booleans_in_bodies_take_true_and_false() -> None:
    from catalog.products.schemas import BatchRequest
    from catalog.users.schemas import AdminUserPatch

    assert BatchRequest.model_validate({"atomic": True, "operations": [{}]}).atomic is True
    assert AdminUserPatch.model_validate({"enabled": False}).enabled is False


@pytest.mark.parametrize("version", ["1", True, Decimal("1.5")])
def test_a_batch_version_is_a_json_integer(version: Any) -> None:
    from catalog.products.batch import _operation

    # When a batch delete names its version as anything but an integer
    with pytest.raises(ValidationError) as caught:
        _operation.validate_python({"op": "delete", "id": "x", "if_match": version})
    # Then the operation is refused for its version
    assert [e["loc"][-1] for e in caught.value.errors()] == ["if_match"]


@pytest.mark.parametrize(
    ("model", "body", "field"),
    [
        ("catalog.products.schemas:ProductPatch", '{"stock": 2435.0}', "stock"),
        ("catalog.images.schemas:ImageUploadRequest", None, "content_length"),
    ],
)
def test_an_integer_field_takes_a_whole_number_written_with_a_zero_fraction(
    model: str, body: str | None, field: str
) -> None:
    # (found by the fuzzer: JSON Schema's `integer`, which the document states, holds 2435.0)
    import importlib

    from catalog.core.jsonutil import loads_request

    module, name = model.split(":")
    schema = getattr(importlib.import_module(module), name)
    if body is None:
        body = '{"content_type": "image/png", "content_length": 2435.0}'
    # When the field is written with a zero fraction, and then with another one
    parsed = schema.model_validate(loads_request(body))
    with pytest.raises(ValidationError) as caught:
        schema.model_validate(loads_request(body.replace("2435.0", "2435.5")))
    # Then the first is the integer, and the second is refused for that field
    assert getattr(parsed, field) == 2435 and type(getattr(parsed, field)) is int
    assert [e["loc"][-1] for e in caught.value.errors()] == [field]
    # And the document still says `integer` with its bounds
    properties = schema.model_json_schema()["properties"][field]
    assert properties["type"] == "integer" and "minimum" in properties


def test_a_batch_version_takes_a_whole_number_written_with_a_zero_fraction() -> None:
    from catalog.products.batch import _operation

    operation = _operation.validate_python({"op": "delete", "id": "x", "if_match": Decimal("3.0")})
    assert operation.if_match == 3


def test_an_unknown_batch_operation_is_named_in_our_words_without_its_input() -> None:
    from catalog.products.batch import _operation

    # When an operation of an unknown kind, 20 KB long, is validated
    with pytest.raises(ValidationError) as caught:
        _operation.validate_python({"op": "x" * 20_000})
    # Then the error says which kinds there are, and quotes nothing of the input
    (error,) = caught.value.errors(include_input=False)
    assert error["msg"] == "op must be one of 'create', 'update', 'delete'"
    assert "xxx" not in str(error)


@pytest.mark.parametrize(
    "email", ["ann\u202e@example.com", "ann\u200b@example.com", "ann\x00@example.com"]
)
def test_emails_refuse_hidden_characters(email: str) -> None:
    from catalog.users.schemas import Email

    with pytest.raises(ValidationError):
        TypeAdapter(Email).validate_python(email)


@pytest.mark.parametrize(
    "email",
    [
        "ann@l0v-.example.com",  # a label ending in a hyphen (found by the fuzzer)
        "ann@-lov.example.com",
        "ann..lee@example.com",
        "ann.@example.com",
        "a" * 65 + "@example.com",  # a local part over 64 characters (found by the fuzzer)
        "ann@" + "b" * 64 + ".com",  # a label over 63
    ],
)
def test_emails_refuse_what_their_format_refuses(email: str) -> None:
    import jsonschema_rs

    from catalog.users.schemas import Email

    # When an address breaks the dot-atom or host name rule, or the local part's bound
    # Then the API refuses it, and so does the documented schema, `format` and pattern (as
    # jsonschema-rs reads it, with formats: what Schemathesis checks against)
    with pytest.raises(ValidationError):
        TypeAdapter(Email).validate_python(email)
    documented = jsonschema_rs.validator_for(
        TypeAdapter(Email).json_schema(), validate_formats=True
    )
    assert not documented.is_valid(email)


@pytest.mark.parametrize(
    "email", ["ann@example.com", "a.b+c_d%e@mail-1.example.co", "a" * 64 + "@x-y.example.org"]
)
def test_emails_their_format_allows_are_accepted(email: str) -> None:
    import jsonschema_rs

    from catalog.users.schemas import Email

    assert TypeAdapter(Email).validate_python(email) == email.lower()
    documented = jsonschema_rs.validator_for(
        TypeAdapter(Email).json_schema(), validate_formats=True
    )
    assert documented.is_valid(email)


def test_emails_are_trimmed_and_lower_cased() -> None:
    from catalog.users.schemas import Email

    assert TypeAdapter(Email).validate_python("  Ann@Example.COM ") == "ann@example.com"


@pytest.mark.parametrize(
    ("model", "body"),
    [
        ("catalog.categories.schemas:CategoryCreate", {"slug": "a", "name": "Lamps\u202e"}),
        ("catalog.users.schemas:ProfilePatch", {"name": "Ann\u2066"}),
        ("catalog.webhooks.schemas:WebhookPatch", {"description": "ping\u200d"}),
        ("catalog.auth.schemas:RefreshRequest", {"refresh_token": "abc def"}),
        ("catalog.auth.schemas:RefreshRequest", {"refresh_token": "abc\u00e9"}),
    ],
)
def test_every_one_line_field_refuses_hidden_characters(model: str, body: dict[str, Any]) -> None:
    import importlib

    module, name = model.split(":")
    with pytest.raises(ValidationError):
        getattr(importlib.import_module(module), name).model_validate(body)
