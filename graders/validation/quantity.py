"""Resource quantities (`500m`, `128Mi`, `0.5`) read and printed as the API server does.

Source: k8s.io/apimachinery pkg/api/resource/quantity.go (`ParseQuantity`, `CanonicalizeBytes`),
suffix.go and amount.go. A quantity is a number and a suffix: a decimal SI suffix (`n u m "" k M G T P E`),
a binary one (`Ki Mi Gi Ti Pi Ei`) or a decimal exponent (`e3`, `E-2`). Anything else is not decoded
at all: the API server answers 400 with one of the three errors below. The printed form is the one
the API server puts in its messages (`Invalid value: "256Mi": must be less than or equal to memory
limit of 128Mi`): the student's own text when it is already canonical, else the canonical form
(`0.5` is `500m`, `1024Mi` is `1Gi`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal, localcontext
from typing import Any

SPLIT = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"  # upstream's splitREString, quoted in its error
FORMAT_WRONG = f"quantities must match the regular expression '{SPLIT}'"
NUMERIC = "unable to parse numeric part of quantity"
SUFFIX = "unable to parse quantity's suffix"

_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_NAMES = {exponent: suffix for suffix, exponent in _DECIMAL.items()}
_BINARY_NAMES = {power // 10: suffix for suffix, power in _BINARY.items()}
_NANO = Decimal("1e-9")
_MAX_BINARY = Decimal(2 ** 63 - 1)


class QuantityError(ValueError):
    """The API server's own reason a text is not a quantity (one of the three messages above)."""


@dataclass(frozen=True)
class Quantity:
    value: Decimal
    text: str  # as the API server prints it
    form: str = "decimal"  # decimal (SI suffixes), binary (Ki, Mi...) or exponent (e3)

    def __str__(self) -> str:
        return self.text


def parse(raw: Any) -> Quantity:
    """A quantity from a YAML value: text, or a number (the JSON decoder reads a number's digits the same way).
    Text is trimmed first, as the JSON decoder does (quantity.go, UnmarshalJSON)."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise QuantityError(FORMAT_WRONG)
    text = (raw if isinstance(raw, str) else _number_text(raw)).strip()
    if not text:
        raise QuantityError(FORMAT_WRONG)
    if text == "0":
        return Quantity(Decimal(0), "0")
    sign, number, suffix = _split(text)
    base_format, exponent = _suffix(suffix)
    whole, _, fraction = number.partition(".")
    amount = Decimal(f"{whole or 0}.{fraction or 0}")  # upstream reads "." and "5." as 0 and 5
    with localcontext() as context:
        context.prec = 200
        amount = amount.scaleb(exponent) if base_format != "binary" else amount * (Decimal(2) ** exponent)
        exponent_of = amount.as_tuple().exponent
        if amount != 0 and isinstance(exponent_of, int) and exponent_of < -9:
            amount = amount.quantize(_NANO, rounding=ROUND_UP)  # rounded up to the nanounit, as upstream does
        if base_format == "binary" and amount > _MAX_BINARY:
            amount = _MAX_BINARY
        value = -amount if sign == "-" else amount
    kept = _kept(sign, number, suffix, base_format)
    if base_format == "binary" and 0 < amount < 1:
        base_format = "decimal"
    return Quantity(value, text if kept else _canonical(value, base_format), base_format)


def at_milli(amount: Quantity) -> Quantity:
    """A resource list's quantity as the API server stores it: rounded away from zero to a thousandth
    (pkg/apis/core/v1/defaults.go, SetDefaults_ResourceList), so 100u of CPU is 1m."""
    rounded = amount.value.quantize(Decimal("0.001"), rounding=ROUND_UP)
    if rounded == amount.value:
        return amount
    return Quantity(rounded, _canonical(rounded, amount.form), amount.form)


def _number_text(number: int | float) -> str:
    if isinstance(number, int):
        return str(number)
    return repr(number) if "e" not in repr(number) else format(Decimal(repr(number)), "f")


def _split(text: str) -> tuple[str, str, str]:
    """(sign, digits with their decimal point, suffix) by upstream's scanner: digits, then at most
    one '.', then letters of the suffix, then an optional signed exponent."""
    match = re.fullmatch(r"([+-]?)([0-9]*)(\.[0-9]*)?([eEinumkKMGTP]*[-+]?[0-9]*)", text)
    if not match:  # no digits at all is zero upstream ("m", "Mi"), however odd
        raise QuantityError(FORMAT_WRONG)
    sign, whole, fraction, suffix = match.groups()
    return sign, whole + (fraction or ""), suffix


def _suffix(suffix: str) -> tuple[str, int]:
    if suffix in _DECIMAL:
        return "decimal", _DECIMAL[suffix]
    if suffix in _BINARY:
        return "binary", _BINARY[suffix]
    if len(suffix) > 1 and suffix[0] in "eE" and re.fullmatch(r"[+-]?[0-9]+", suffix[1:]):
        return "exponent", int(suffix[1:])
    raise QuantityError(SUFFIX)


def _kept(sign: str, number: str, suffix: str, base_format: str) -> bool:
    """Whether upstream keeps the student's own text: its fast path, for a value already canonical."""
    whole, _, fraction = number.partition(".")
    shifted = (whole.lstrip("0") or "0") + fraction  # upstream's numerator and denominator, side by side
    if base_format == "binary":
        return not fraction and _BINARY[suffix] % 10 == 0 and int(shifted) & 7 != 0
    scale = (_DECIMAL[suffix] if base_format == "decimal" else int(suffix[1:])) - len(fraction)
    return (len(shifted) <= 18 and scale >= -9 and scale % 3 == 0 and not shifted.endswith("000")
            and shifted[0] != "0")


def _canonical(value: Decimal, base_format: str) -> str:
    if value == 0:
        return "0"
    if base_format == "binary" and (abs(value) < 1024 or value != value.to_integral_value()):
        base_format = "decimal"
    if base_format == "binary":
        mantissa, power = int(value), 0
        while mantissa % 1024 == 0 and power < 6:
            mantissa, power = mantissa // 1024, power + 1
        return f"{mantissa}{_BINARY_NAMES.get(power, '') if power else ''}"
    sign, digits, exponent = value.normalize().as_tuple()
    mantissa = int("".join(map(str, digits)))
    assert isinstance(exponent, int)
    while exponent % 3:  # down to a multiple of 3: 1.5 is 1500m, 15k stays 15k
        mantissa, exponent = mantissa * 10, exponent - 1
    text = f"{'-' if sign else ''}{mantissa}"
    if base_format == "exponent":
        return text + (f"e{exponent}" if exponent else "")
    return text + _DECIMAL_NAMES.get(exponent, "")
