"""Amounts of money in dollars, euros and pounds, with their cents or pence."""

from __future__ import annotations

import re

from chorus_text.normalization.numbers import NUMBER, cardinal

# symbol: (unit, units, subunit, subunits)
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
}
_SCALES = r"thousand|million|billion|trillion"
_AMOUNT = re.compile(
    rf"(-|−)?([$€£])\s?({NUMBER})(?:\s?({_SCALES}|[kKmMbB]n?)\b)?(?![\w]|[.,]\d)",
)
_SHORT_SCALES = {"k": "thousand", "m": "million", "mn": "million", "b": "billion", "bn": "billion"}


def spell_money(text: str) -> str:
    """ "$1,250.50" -> "one thousand two hundred and fifty dollars and fifty cents"."""
    return _AMOUNT.sub(_spoken_amount, text)


def _spoken_amount(match: re.Match[str]) -> str:
    minus, symbol, digits, scale = match.groups()
    unit, units, subunit, subunits = _CURRENCIES[symbol]
    sign = "minus " if minus else ""
    plain = digits.replace(",", "")
    if scale:
        # "$1.5 million": the number is read as written and the unit follows the scale.
        scale_word = _SHORT_SCALES.get(scale.lower(), scale.lower())
        return f"{sign}{cardinal(plain)} {scale_word} {units}"
    whole, _, fraction = plain.partition(".")
    amount = f"{cardinal(whole)} {unit if int(whole) == 1 else units}"
    if fraction and len(fraction) <= 2:
        cents = int(fraction.ljust(2, "0"))
        if cents:
            amount += f" and {cardinal(str(cents))} {subunit if cents == 1 else subunits}"
    elif fraction:
        amount = f"{cardinal(plain)} {units}"
    return sign + amount
