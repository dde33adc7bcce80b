"""What kind of sensitive data a column or a piece of text holds."""

from __future__ import annotations

import enum


class Category(enum.Enum):
    EMAIL = "email"
    PHONE = "phone"
    IBAN = "iban"
    CARD_NUMBER = "card_number"
    NATIONAL_ID = "national_id"
    IP_ADDRESS = "ip_address"
    PERSON_NAME = "person_name"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    STREET_ADDRESS = "street_address"
    CITY = "city"
    POSTCODE = "postcode"
    REGION = "region"  # state, province, county, district of an address
    COUNTRY = "country"
    DATE_OF_BIRTH = "date_of_birth"
    USERNAME = "username"
    COMPANY = "company"
    FREE_TEXT_WITH_PII = "free_text_with_pii"
    JSON_WITH_PII = "json_with_pii"
    IDENTIFIER = "identifier"
    SECRET = "secret"  # noqa: S105  (a category name, not a password)
    REFERENCE = "reference"  # public reference data (countries, currencies, genres, ...)
    OTHER = "other"


__all__ = ["Category"]
