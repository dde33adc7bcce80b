"""Column-name rules: which category a column/table name suggests, in any naming style."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stagewall.masking.classify._categories import Category
from stagewall.masking.types import ColumnKind

_TEXTISH = frozenset({ColumnKind.TEXT, ColumnKind.OTHER})
_DATES = frozenset({ColumnKind.DATE, ColumnKind.TIMESTAMP, ColumnKind.TEXT})
_ANY = frozenset(ColumnKind)
# phone and card numbers are stored as integers too (a call record's BIGINT msisdn)
_DIGITS = _TEXTISH | {ColumnKind.INTEGER}


@dataclass(frozen=True)
class NameRule:
    category: Category
    label: str
    # each matches where a run of the name's words starts with it ("email" in
    # ``EMAIL_ADDR``, ``contact_email``; never "ipaddress" inside ``ship_address``)
    compact: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()  # whole words of the name
    kinds: frozenset[ColumnKind] = _TEXTISH
    # compacts end where a word ends (``tax_no`` but never ``tax_notes``, ``vat_no``
    # but never ``vat_notes``): for entries that are the start of other words
    whole: bool = False


# Order matters: the first rule that matches wins.
RULES: tuple[NameRule, ...] = (
    NameRule(
        Category.SECRET,
        "password/secret",
        (
            "password",
            "passwd",
            "passphrase",
            "secret",
            "apikey",
            "accesstoken",
            "refreshtoken",
            "authtoken",
            "sessiontoken",
            "privatekey",
            "otpseed",
            "totp",
        ),
        ("pwd", "token", "salt", "hash"),
        _ANY,
    ),
    NameRule(Category.EMAIL, "email", ("email",), ("mail",)),
    NameRule(Category.IBAN, "iban", ("iban",)),
    NameRule(
        Category.CARD_NUMBER,
        "card_number",
        ("cardnumber", "cardno", "creditcard", "ccnumber", "debitcard"),
        ("pan", "cc"),
        _DIGITS,
    ),
    NameRule(
        Category.NATIONAL_ID,
        "national_id",
        (
            "ssn",
            "socialsecurity",
            "nationalid",
            "nationalinsurance",
            "taxid",
            "passport",
            "nino",
            "idcardnumber",
        ),
        ("bsn", "nir", "dni", "tin", "nin"),
        _ANY,
    ),
    NameRule(
        Category.PHONE,
        "phone",
        ("phone", "msisdn", "telephone", "mobile", "cellnumber"),
        ("tel", "fax", "cell"),
        _DIGITS,
    ),
    NameRule(
        Category.IP_ADDRESS,
        "ip",
        ("ipaddr", "ipaddress", "remoteaddr", "clientip", "lastip", "sourceip"),
        ("ip",),
    ),
    NameRule(
        Category.DATE_OF_BIRTH,
        "birth_date",
        ("birthdate", "dateofbirth", "birthday", "birthdt"),
        ("dob", "born"),
        _DATES,
    ),
    NameRule(
        Category.FIRST_NAME,
        "first_name",
        ("firstname", "givenname", "forename", "middlename"),
        ("fname",),
    ),
    NameRule(
        Category.LAST_NAME,
        "last_name",
        ("lastname", "surname", "familyname", "maidenname"),
        ("lname",),
    ),
    NameRule(
        Category.PERSON_NAME,
        "name",
        (
            "fullname",
            "displayname",
            "contactname",
            "customername",
            "personname",
            "holdername",
            "cardholder",
            "accountholder",
            "employeename",
            "realname",
        ),
    ),
    # Other identifiers of one person that no value validator knows (a tax or VAT
    # number, a driving licence, a health or insurance number, a bank account
    # written without its IBAN): the name is all that says what they are, and a
    # format-preserving permutation keeps joins on them. After the
    # name rules: ``bank_account_holder`` is a name.
    NameRule(
        Category.NATIONAL_ID,
        "tax_id",
        (
            "taxnumber",
            "taxno",
            "vatid",
            "vatnumber",
            "vatno",
            "vatreg",
            "vatidentification",
            "steuerid",
            "steuernummer",
            "codicefiscale",
            "fiscalcode",
            "fiscalnumber",
            "personnummer",
            "fodselsnummer",
            "identitynumber",
            "idnumber",
            "idcard",
        ),
        ("nif", "nie", "cif", "cpf", "cnpj", "curp", "pesel"),
        _ANY,
        whole=True,
    ),
    NameRule(
        Category.NATIONAL_ID,
        "licence",
        (
            "driverlicense",
            "driverlicence",
            "driverslicense",
            "driverslicence",
            "drivinglicense",
            "drivinglicence",
            "licensenumber",
            "licencenumber",
            "licenseno",
            "licenceno",
            "licenseplate",
            "licenceplate",
            "numberplate",
        ),
        (),
        _ANY,
        whole=True,
    ),
    NameRule(
        Category.NATIONAL_ID,
        "health_id",
        (
            "nhsnumber",
            "nhsno",
            "insurancenumber",
            "insuranceno",
            "insuranceid",
            "medicare",
            "medicaid",
            "healthcard",
            "healthnumber",
            "socialinsurance",
        ),
        ("nhs",),
        _ANY,
        whole=True,
    ),
    NameRule(
        Category.NATIONAL_ID,
        "bank_account",
        (
            "bankaccount",
            "accountnumber",
            "accountno",
            "acctno",
            "acctnumber",
            "kontonummer",
            "kontonr",
            "rekeningnummer",
            "bban",
        ),
        (),
        _ANY,
        whole=True,
    ),
    NameRule(
        Category.USERNAME,
        "username",
        ("username", "loginname", "screenname", "nickname", "userhandle"),
        ("login", "handle", "nick"),
    ),
    NameRule(
        Category.STREET_ADDRESS,
        "address",
        ("address", "street", "addressline", "addr1", "addr2"),
        ("addr", "line1", "line2"),
    ),
    NameRule(Category.CITY, "city", ("city",), ("town", "locality")),
    NameRule(
        Category.REGION,
        "region",
        ("region", "province", "district", "county"),
        ("state", "prefecture", "canton", "territory"),
    ),
    NameRule(Category.COUNTRY, "country", ("country",), ("nation",)),
    NameRule(
        Category.POSTCODE,
        "postcode",
        ("postcode", "postalcode", "zipcode"),
        ("zip", "plz", "postal"),
    ),
    NameRule(
        Category.COMPANY,
        "company",
        ("company", "employer", "organisation", "organization"),
        ("org",),
    ),
)

# Tables whose plain ``name`` column is a person's name.
PERSON_TABLES = re.compile(
    r"(user|customer|client|person|people|employee|staff|contact|member|patient|student|"
    r"account|owner|author|applicant|candidate|guest|passenger|subscriber|driver|lead)"
)
# Words of a column name that make it free text: what people type about a person
# or a case (``notes``, ``CustomerComment``, ``delivery_instructions``). Whole words,
# never substrings ("bio" is not in ``biome``, "note" not in ``denote``).
FREE_TEXT = frozenset(
    {"note", "notes", "comment", "comments", "description", "descr", "message", "messages",
     "msg", "remark", "remarks", "body", "bio", "biography", "about", "memo", "memos",
     "feedback", "summary", "details", "narrative", "annotation", "annotations",
     "observation", "observations", "instruction", "instructions", "text", "content",
     "reason", "complaint", "review", "story", "greeting", "dedication", "notice"}
)  # fmt: skip


def names_free_text(column: str) -> bool:
    """True when a word of the column's name says it holds free text."""
    return any(w in FREE_TEXT for w in split_name(column))


def split_name(name: str) -> list[str]:
    """``EmailAddress``, ``e_mail``, ``email-address``, ``EMAIL_ADDR`` → lower-case words."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


# A last word like these makes the column *about* the data, not the data itself
# (``email_verified_at``, ``phone_type``, ``company_id``).
_META_SUFFIX = frozenset(
    {"at", "on", "count", "type", "status", "verified", "confirmed", "enabled", "flag",
     "expires", "expiry", "changed", "updated", "format", "size", "length", "kind", "id",
     "ids", "uuid", "key", "ref", "fk", "pk", "policy", "required", "valid", "allowed"}
)  # fmt: skip


# Words that put a name, country or region column into somebody's address
# (``ship_name``, ``billing_country``, ``ship_region``).
ADDRESS_CONTEXT = frozenset(
    {"ship", "shipping", "shipto", "bill", "billing", "delivery", "deliver", "mailing",
     "home", "postal", "recipient", "consignee", "customer", "contact", "residence",
     "resident", "birth", "patient", "employee", "personal", "private"}
)  # fmt: skip


def _matches(rule: NameRule, words: list[str]) -> bool:
    if any(t in words for t in rule.tokens):
        return True
    if rule.category is Category.SECRET:
        # fail safe for secrets: a substring is enough (``oldpassword``)
        compact = "".join(words)
        return any(c in compact for c in rule.compact)
    # words, not substrings: a run of whole words must start with the entry
    if rule.whole:
        return any(_starts_whole(words[i:], c) for c in rule.compact for i in range(len(words)))
    runs = ["".join(words[i:]) for i in range(len(words))]
    return any(run.startswith(c) for c in rule.compact for run in runs)


def _starts_whole(words: list[str], compact: str) -> bool:
    """True when the first words of ``words``, run together, are ``compact``."""
    run = ""
    for w in words:
        run += w
        if run == compact:
            return True
        if not compact.startswith(run):
            return False
    return False


def _id_is_the_value(rule: NameRule, last: str) -> bool:
    """True when a meta last word is part of the value's name: a secret's ``key`` or
    ``hash``, a national id's ``id`` (``national_id``, ``tax_id``, ``passport_id``
    hold the id itself, where ``company_id`` is a key to a company)."""
    if rule.category is Category.SECRET:
        return last in {"key", "hash"}
    return rule.category is Category.NATIONAL_ID and last in {"id", "ids"}


def match_rule(column: str, kind: ColumnKind) -> NameRule | None:
    words = split_name(column)
    meta = len(words) > 1 and words[-1] in _META_SUFFIX
    for rule in RULES:
        if kind not in rule.kinds:
            continue
        if meta and not _id_is_the_value(rule, words[-1]):
            continue
        if _matches(rule, words):
            return rule
    return None


def in_address_context(column: str) -> bool:
    """True when the column's name puts it into somebody's address or record."""
    return any(w in ADDRESS_CONTEXT for w in split_name(column))


__all__ = [
    "ADDRESS_CONTEXT",
    "FREE_TEXT",
    "PERSON_TABLES",
    "RULES",
    "NameRule",
    "in_address_context",
    "match_rule",
    "names_free_text",
    "split_name",
]
