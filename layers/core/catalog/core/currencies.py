"""Money: ISO 4217 codes in circulation (no fund or precious-metal codes) and amounts as written."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

ISO_4217 = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CRC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "UYU",
        "UZS",
        "VED",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XCG",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "ZWG",
    ]
)

# Plain decimal notation, ASCII digits only: no exponent, sign "+", spaces, "_" separators
# or other scripts' digits, all of which Decimal() would take ("1e2", "1_000", "\uff15").
AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]{1,2})?$"
_AMOUNT = re.compile(AMOUNT_PATTERN)
QUERY_AMOUNT_PATTERN = r"^[0-9]+(\.[0-9]{1,2})?$"  # a price bound: no sign either ("-0")
_QUERY_AMOUNT = re.compile(QUERY_AMOUNT_PATTERN)


def exact_amount(value: Any) -> Any:
    """Accept a JSON number (parsed as Decimal) or a plain decimal string; never a float or
    bool, and never more than 2 decimal places as written ("5.000" included)."""
    if isinstance(value, bool | float):
        raise ValueError("must be an exact decimal (a JSON number or a string like '19.99')")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        if not _AMOUNT.fullmatch(value):
            raise ValueError("must be written like '19.99': digits 0-9, at most 2 decimal places")
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent > 0:  # only exponent notation gives these
            raise ValueError("must be written without an exponent")
        if isinstance(exponent, int) and exponent < -2:
            raise ValueError("must have at most 2 decimal places")
    return value


def query_amount(value: Any) -> Any:
    """A query string's price bound: digits 0-9, at most 2 decimal places, no sign."""
    if isinstance(value, str):
        if not _QUERY_AMOUNT.fullmatch(value):
            raise ValueError("must be written like '19.99': digits 0-9, at most 2 decimal places")
        return Decimal(value)
    return value
