"""Numbers as words, from num2words: cardinals, ordinals, decimals, negatives, years, ranges."""

from __future__ import annotations

import re

from num2words import CONVERTER_CLASSES, num2words

# An integer with optional thousands commas, or plain digits, with an optional decimal part.
NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SIGNED = re.compile(rf"(?<![\w.,])(-|−)?({NUMBER})(?![\w]|[.,]\d)")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.IGNORECASE)
# "5-10", "1990-2000" (any dash): a range, "five to ten"; hyphens between words stay.
_RANGE = re.compile(rf"(?<![\w.,-])({NUMBER})\s?[-–—]\s?({NUMBER})(?![\w]|[.,]\d)")
# A year where the text says so: after "in", "since", ... or as a decade ("1990s").
_YEAR_CONTEXT = re.compile(
    r"\b(in|since|from|by|until|till|year|of|circa|before|after)(\s+)(1[1-9]\d\d|20\d\d)\b(?!,\d)",
    re.IGNORECASE,
)
_DECADE = re.compile(r"\b(1[1-9]\d0|20\d0)'?s\b")


def language_of(code: str | None) -> str | None:
    """num2words's language for a BCP 47-ish code ("fr-fr" -> "fr"); None if it has none."""
    if not code:
        return "en"
    tag = code.replace("-", "_")
    for candidate in (tag[:2].lower() + tag[2:].upper(), tag[:2].lower()):
        if candidate in CONVERTER_CLASSES:
            return candidate
    return None


def words(value: int | float | str, lang: str = "en", to: str = "cardinal") -> str:
    """num2words without its commas ("one thousand, two hundred"), which would read as
    clause marks to the splitter and as pauses to engines."""
    try:
        number = float(value) if isinstance(value, str) and "." in value else int(value)
        return str(num2words(number, lang=lang, to=to)).replace(",", "")
    except OverflowError:
        # Past what num2words can name (10**27 and up in English): digit by digit, as a
        # long code is read out; it raised, and the request failed with a 500.
        return " ".join(str(num2words(int(d), lang=lang)) for d in str(value) if d.isdigit())


def cardinal(digits: str, lang: str = "en") -> str:
    """ "1,250.50" -> "one thousand two hundred and fifty point five"."""
    return words(digits.replace(",", ""), lang)


def year(digits: str) -> str:
    """ "1999" -> "nineteen ninety-nine", "2005" -> "two thousand five"."""
    return words(digits, "en", "year").replace(" and ", " ")


def spell_numbers_en(text: str) -> str:
    """English numbers: decades, ranges, context years, ordinals, then signed numbers."""
    text = _DECADE.sub(lambda m: _plural(year(m.group(1))), text)
    text = _RANGE.sub(lambda m: f"{_range_end(m.group(1))} to {_range_end(m.group(2))}", text)
    text = _YEAR_CONTEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}{year(m.group(3))}", text)
    text = _ORDINAL.sub(lambda m: words(m.group(1), "en", "ordinal"), text)
    return spell_signed(text, "en")


def spell_signed(text: str, lang: str) -> str:
    """Every remaining number, with a leading minus read as the language's minus."""
    return _SIGNED.sub(lambda m: cardinal(("-" if m.group(1) else "") + m.group(2), lang), text)


def _range_end(digits: str) -> str:
    plain = digits.replace(",", "")
    return year(plain) if re.fullmatch(r"1[1-9]\d\d|20\d\d", plain) else cardinal(plain)


def _plural(spoken: str) -> str:
    """ "nineteen ninety" -> "nineteen nineties", "two thousand" -> "two thousands"."""
    if spoken.endswith("y"):
        return spoken[:-1] + "ies"
    return spoken + "s"
