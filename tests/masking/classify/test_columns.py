from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from stagewall.keys import MaskingKey
from stagewall.masking.classify import Category, Finding, classify_column
from stagewall.masking.transformers import build_transformer, get_transformer_class
from stagewall.masking.types import ColumnKind as K

EMAILS = [f"user{i}@example{i % 3}.org" for i in range(48)] + ["n/a", "unknown"]
PHONES = ["+44 20 7946 0958", "+1 (555) 123-4567", "020 7946 0123", "+49 30 123456"] * 5
IBANS = ["GB82WEST12345698765432", "DE89370400440532013000", "NL91ABNA0417164300"] * 5
NAMES = ["Sarah Connor", "John Smith", "Mary Johnson", "James Brown", "Linda Davis"] * 4


def c(
    table: str, column: str, kind: K = K.TEXT, samples: list[object] | None = None, **kw: object
) -> Finding:
    return classify_column(table=table, column=column, kind=kind, samples=samples or [], **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "column", ["email", "e_mail", "EmailAddress", "mail", "EMAIL_ADDR", "contact-email"]
)
def test_email_names_in_several_styles(column: str) -> None:
    f = c("customers", column, samples=EMAILS)
    assert f.category is Category.EMAIL and f.transformer == "email"
    assert "48/50 samples are e-mail addresses" in f.reason and "name rule 'email'" in f.reason
    assert f.confidence > 0.9


@pytest.mark.parametrize(
    ("column", "category", "transformer"),
    [
        ("phone", Category.PHONE, "phone"), ("tel", Category.PHONE, "phone"),
        ("msisdn", Category.PHONE, "phone"), ("MobilePhone", Category.PHONE, "phone"),
        ("iban", Category.IBAN, "iban"), ("card_number", Category.CARD_NUMBER, "card_number"),
        ("pan", Category.CARD_NUMBER, "card_number"), ("ssn", Category.NATIONAL_ID, "fpe_alnum"),
        ("first_name", Category.FIRST_NAME, "first_name"), ("fname", Category.FIRST_NAME, "first_name"),
        ("surname", Category.LAST_NAME, "last_name"), ("LastName", Category.LAST_NAME, "last_name"),
        ("address", Category.STREET_ADDRESS, "street_address"),
        ("street", Category.STREET_ADDRESS, "street_address"), ("city", Category.CITY, "city"),
        ("zip", Category.POSTCODE, "postcode"), ("PostCode", Category.POSTCODE, "postcode"),
        ("ip", Category.IP_ADDRESS, "ip_address"), ("username", Category.USERNAME, "username"),
        ("login", Category.USERNAME, "username"), ("password", Category.SECRET, "redact"),
        ("api_token", Category.SECRET, "redact"), ("company_name", Category.COMPANY, "company"),
    ],
)  # fmt: skip
def test_name_rules_without_samples(column: str, category: Category, transformer: str) -> None:
    f = c("people", column)
    assert (f.category, f.transformer) == (category, transformer)
    assert "name rule" in f.reason


def test_date_of_birth() -> None:
    f = c("users", "dob", K.DATE, [dt.date(1990, 1, 1)])
    assert f.category is Category.DATE_OF_BIRTH and f.transformer == "birth_date"
    assert c("users", "BirthDate", K.TIMESTAMP).transformer == "birth_date"
    assert c("users", "birth_date", K.TEXT, ["1990-01-01"]).transformer == "redact"


def test_samples_that_contradict_the_name_win() -> None:
    f = c("customers", "phone", samples=IBANS)
    assert f.category is Category.IBAN and f.transformer == "iban"
    assert "name suggests phone" in f.reason


def test_samples_without_a_name_rule() -> None:
    f = c("t", "col_17", samples=EMAILS)
    assert f.category is Category.EMAIL and f.reason.startswith("48/50 samples")
    assert c("t", "x", samples=PHONES).category is Category.PHONE
    assert (
        c("t", "x", samples=["4111 1111 1111 1111", "5500 0000 0000 0004"] * 3).category
        is Category.CARD_NUMBER
    )
    assert c("t", "x", samples=["10.0.0.1", "192.168.1.20", "::1"]).category is Category.IP_ADDRESS
    assert (
        c("t", "x", samples=["123-45-6789", "AB123456C", "12345678Z"]).category
        is Category.NATIONAL_ID
    )
    names = c("t", "holder", samples=NAMES)
    assert names.category is Category.PERSON_NAME and names.transformer == "full_name"


def test_checksums_matter_for_values() -> None:
    bad_ibans = ["GB82WEST12345698765433"] * 10  # mod-97 fails
    assert c("t", "x", samples=bad_ibans).category is not Category.IBAN
    f = c("t", "card_number", samples=["1234-5678"] * 10)
    assert f.transformer == "fpe_alnum" and "0/10 samples are card numbers" in f.reason


def test_plain_name_column_depends_on_the_table() -> None:
    assert c("customers", "name", samples=NAMES).category is Category.PERSON_NAME
    assert c("products", "name", samples=["Widget", "Gadget", "Sprocket"]).transformer == "keep"


def test_keys_and_uniqueness() -> None:
    pk = c("customers", "id", K.INTEGER, [1, 2, 3], is_primary_key=True)
    assert (pk.category, pk.transformer) == (
        Category.IDENTIFIER,
        "keep",
    ) and "primary key" in pk.reason
    fk = c("orders", "customer_id", K.INTEGER, [1, 2], is_foreign_key=True)
    assert fk.transformer == "keep" and "foreign key" in fk.reason
    uniq_email = c("customers", "email", samples=EMAILS, is_unique=True, max_length=40)
    assert uniq_email.transformer == "email" and uniq_email.params == {"max_length": 40}
    wide = c("customers", "email", samples=EMAILS, is_unique=True, max_length=120)
    assert wide.params == {}  # every output fits 120 already
    uniq_name = c("users", "first_name", samples=["Sarah", "John"], is_unique=True)
    assert uniq_name.transformer == "fpe_alnum" and "unique-safe" in uniq_name.reason
    pk_email = c("accounts", "email", samples=EMAILS, is_primary_key=True)
    assert get_transformer_class(pk_email.transformer).unique_safe
    ssn_int = c("people", "ssn", K.INTEGER, [123456789], is_unique=True)
    assert ssn_int.transformer == "fpe_integer"


@pytest.mark.parametrize(
    "column", ["email", "phone", "first_name", "city", "password", "notes", "dob", "ip"]
)
def test_never_lossy_on_unique_columns(column: str) -> None:
    kind = K.DATE if column == "dob" else K.TEXT
    f = c("users", column, kind, is_unique=True)
    assert not get_transformer_class(f.transformer).lossy, f


def test_non_sensitive_keep_with_reason() -> None:
    f = c("orders", "status", samples=["shipped", "open", "open"])
    assert f.transformer == "keep" and f.category is None and "3 samples" in f.reason
    assert c("orders", "email_verified_at", K.TIMESTAMP).transformer == "keep"
    assert c("orders", "created_at", K.TIMESTAMP).transformer == "keep"
    assert c("orders", "phone_type", samples=["mobile", "home"]).transformer == "keep"


def test_free_text_with_an_embedded_email() -> None:
    samples = ["please leave at the door", "ring jane.doe@corp.com before delivery", "ok", "fine"]
    f = c("orders", "delivery_notes", samples=samples)
    assert f.category is Category.FREE_TEXT_WITH_PII and f.transformer == "text_scrub"
    assert "1/4 samples" in f.reason and "email" in f.reason
    clean = c("orders", "comment", samples=["great", "late again", "thanks"])
    assert clean.transformer == "keep" and "free-text" in clean.reason


def test_json_with_a_nested_name() -> None:
    docs = [
        {"customer": {"name": "Sarah Connor", "email": "s.connor@sky.net"}, "qty": 2, "sku": "A-1"},
        {"customer": {"name": "John Smith", "email": "j@smith.org"}, "qty": 1, "sku": "B-2"},
    ]
    f = c("orders", "payload", K.JSON, docs)
    assert f.category is Category.JSON_WITH_PII and f.transformer == "json_mask"
    assert f.params["paths"]["$.customer.email"]["transformer"] == "email"
    assert f.params["paths"]["$.customer.name"]["transformer"] == "full_name"
    assert set(f.params["keep"]) == {"$.qty", "$.sku"}
    assert f.params["unknown_keys"] in ("scrub", "fail")
    # the proposal is a valid, working json_mask
    t = build_transformer("json_mask", f.params, key=MaskingKey("k", b"\x01" * 32))
    out = t.transform(docs)
    assert "Sarah Connor" not in json.dumps(out) and out[0]["qty"] == 2
    # the same documents as JSON text in a TEXT column
    as_text = c("orders", "payload", K.TEXT, [json.dumps(d) for d in docs])
    assert as_text.transformer == "json_mask"
    assert c("orders", "payload", K.JSON, [{"qty": 1}]).transformer == "keep"


def test_finding_is_frozen() -> None:
    f = c("t", "email")
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.transformer = "keep"  # type: ignore[misc]


def test_every_proposal_builds() -> None:
    key = MaskingKey("k", b"\x01" * 32)
    for column in ("email", "phone", "iban", "ssn", "dob", "notes", "payload", "zip", "password"):
        for kind in (K.TEXT, K.INTEGER, K.DATE, K.JSON, K.UUID, K.BYTES):
            f = c("users", column, kind, is_unique=column == "email")
            t = build_transformer(f.transformer, f.params, key=key)
            assert kind in t.accepts or f.transformer == "keep", (column, kind, f)


def test_untyped_column_with_personal_data_in_text_is_scrubbed() -> None:
    """A column without a declared type (SQLite) is checked for text findings too."""
    from stagewall.masking.classify import classify_column
    from stagewall.masking.types import ColumnKind

    samples: list[object] = ["Deliver to Anna Miller, call +44 20 7946 0001", 12345, None] * 10
    f = classify_column(table="orders", column="notes", kind=ColumnKind.OTHER, samples=samples)
    assert f.transformer == "text_scrub"


@pytest.mark.parametrize(
    "value",
    [
        "1 Main Street, Springfield",
        "221B Baker St",
        "Hauptstraße 5",
        "Keizersgracht 123",
        "3 rue de la Paix",
        "Calle Mayor 5",
        "12-14 Old Kent Road",
        "742 Evergreen Terrace",
    ],
)
def test_street_addresses_are_recognised(value: str) -> None:
    from stagewall.masking.classify._validators import is_street_address

    assert is_street_address(value)


@pytest.mark.parametrize(
    "value", ["10 items", "Main Street", "hello world", "2024-01-01", "Anna Miller", "via email"]
)
def test_other_text_is_not_a_street_address(value: str) -> None:
    from stagewall.masking.classify._validators import is_street_address

    assert not is_street_address(value)


def test_a_column_of_addresses_without_an_address_name_is_masked() -> None:
    from stagewall.masking.classify import classify_column
    from stagewall.masking.types import ColumnKind

    samples: list[object] = [f"{i} Main Street, Springfield" for i in range(1, 40)]
    f = classify_column(table="orders", column="ship_to", kind=ColumnKind.TEXT, samples=samples)
    assert f.transformer == "street_address"


@pytest.mark.parametrize(
    ("column", "category"),
    [
        ("ship_address", Category.STREET_ADDRESS),  # "shipaddress" holds "ipaddress"
        ("ShipAddress", Category.STREET_ADDRESS),
        ("client_ip", Category.IP_ADDRESS),
        ("mailing_address", Category.STREET_ADDRESS),
        ("oldpassword", Category.SECRET),  # secrets still match inside a word
    ],
)
def test_name_rules_match_words_not_substrings(column: str, category: Category) -> None:
    assert c("orders", column).category is category


def test_places_are_masked_for_people_and_kept_as_reference() -> None:
    # Pagila country.country: "Chad" became a person's name
    chad = c("country", "country", samples=["Chad", "Chile", "China", "Peru"])
    assert (chad.category, chad.transformer) == (Category.REFERENCE, "keep")
    assert "reference" in chad.reason
    assert c("city", "city", samples=["Lethbridge", "Woodridge"]).transformer == "keep"
    # the same columns in somebody's address are masked
    assert c("customer", "country", samples=["Chad", "Chile"]).transformer == "country"
    assert c("invoice", "billing_country", samples=["Brazil"]).transformer == "country"
    assert c("address", "district", personal_table=True).transformer == "region"
    assert c("orders", "ship_region", samples=["WA", "SP"]).transformer == "region"
    assert c("customers", "state").transformer == "region"
    assert c("orders", "order_state", samples=["shipped", "open"]).transformer == "keep"


def test_reference_values_are_kept() -> None:
    german = c("language", "name", samples=["English", "Italian", "Japanese", "German"])
    assert german.transformer == "keep" and "language" in german.reason
    genre = c("genre", "name", samples=["Rock", "Jazz", "Bossa Nova", "Latin", "Blues"])
    assert genre.transformer == "keep" and "genres" in genre.reason
    money = c("prices", "code", samples=["EUR", "USD", "GBP", "JPY"])
    assert money.transformer == "keep" and "currency" in money.reason
    product = c("products", "product_name", samples=["Chai", "Chang", "Aniseed Syrup"])
    assert product.transformer == "keep" and "catalogue" in product.reason
    # names of people in a table with a neutral name are still masked
    speakers = c("talks", "speaker_name", samples=NAMES)
    assert speakers.transformer != "keep"


def test_names_photos_and_dates_in_peoples_records() -> None:
    ship = c("orders", "ship_name", samples=["Vins et alcools Chevalier", "Toms Spezialitäten"])
    assert ship.transformer == "company"
    assert c("orders", "ship_name", samples=NAMES).transformer == "full_name"
    assert c("employees", "photo", K.BYTES, [b"\x89PNG"]).transformer == "null"
    path = c("employees", "photo_path", samples=["http://accweb/employees/davolio.bmp"])
    assert path.transformer == "redact"
    assert c("employees", "hire_date", K.DATE, [dt.date(1992, 5, 1)]).transformer == "date_shift"
    assert c("categories", "picture", K.BYTES, [b"\x89PNG"]).transformer == "keep"


def test_plan_bounds_pseudonyms_by_the_column_length() -> None:
    city = c("customers", "city", samples=["Berlin"], max_length=10)
    assert city.params == {"max_length": 10}
    assert c("customers", "city", samples=["Berlin"], max_length=200).params == {}
    scrub = c("tickets", "notes", samples=["Call Jane Smith on +44 20 7946 0958"], max_length=64)
    assert scrub.transformer == "text_scrub" and scrub.params == {"max_length": 64}


def test_json_address_documents_stay_json() -> None:
    """A JSON address document in a text column was replaced by one street string."""
    docs = [
        json.dumps({"street": f"{i} Calle Mayor", "city": "Madrid", "zip": f"2800{i}"})
        for i in range(1, 9)
    ]
    f = c("customers", "address", samples=docs)
    assert f.transformer == "json_mask"
    assert set(f.params["paths"]) == {"$.street", "$.city", "$.zip"}
    out = build_transformer(f.transformer, f.params, key=MaskingKey("k", b"j" * 32)).transform(
        [*docs[:2], "", None]
    )
    assert [set(json.loads(str(o))) for o in out[:2]] == [{"street", "city", "zip"}] * 2
    assert out[2:] == ["", None]  # empty strings and NULLs stay as they are
