"""`<say-as interpret-as>`: the words of a number, date, time, phone number or spelling.

Each kind is read by the same rules the text normalization applies to running text, so a
date in `<say-as>` sounds as a date found in plain text does.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from chorus_text.normalization.addresses import spoken_phone
from chorus_text.normalization.clock import MONTHS, spell_times, spoken_date
from chorus_text.normalization.money import spell_money
from chorus_text.normalization.numbers import cardinal, words, year

_DIGIT_NAMES = {d: words(d) for d in "0123456789"}
_DATE_PARTS = re.compile(r"\d+|[A-Za-z]+")
_DATE_FORMATS = ("mdy", "dmy", "ymd", "md", "dm", "ym", "my", "d", "m", "y")


def _characters(text: str, _: str | None) -> str:
    """ "ABC1" -> "A B C one": each letter on its own, digits by name."""
    return " ".join(_DIGIT_NAMES.get(ch, ch.upper()) for ch in text if not ch.isspace())


def _digits(text: str, _: str | None) -> str:
    return " ".join(_DIGIT_NAMES[ch] for ch in text if ch in _DIGIT_NAMES)


def _number(text: str) -> str:
    digits = re.sub(r"[,\s]", "", text)
    if not re.fullmatch(r"-?\d+(?:\.\d+)?", digits):
        raise ValueError(f'"{text}" is not a number')
    return digits


def _cardinal(text: str, _: str | None) -> str:
    return cardinal(_number(text))


def _ordinal(text: str, _: str | None) -> str:
    digits = re.sub(r"(?i)(st|nd|rd|th)$", "", text.strip())
    if not digits.isdigit():
        raise ValueError(f'"{text}" is not an ordinal number')
    return words(digits, to="ordinal")


def _date(text: str, date_format: str | None) -> str:
    """A date in the order `format` gives (default "mdy"), parts split by any separator."""
    order = date_format or "mdy"
    if order not in _DATE_FORMATS:
        raise ValueError(f'format="{order}" is not one of {", ".join(_DATE_FORMATS)}')
    parts = _DATE_PARTS.findall(text)
    if len(parts) != len(order):
        raise ValueError(f'"{text}" does not have the parts of format "{order}"')
    named = dict(zip(order, parts, strict=True))
    month = _month(named["m"]) if "m" in named else None
    day, year_digits = named.get("d"), named.get("y")
    if day is not None and not (day.isdigit() and 1 <= int(day) <= 31):
        raise ValueError(f'"{day}" is not a day of a month')
    if month is not None and day is not None:
        return spoken_date(month, day, year_digits)
    spoken = []
    if day is not None:
        spoken.append(f"the {words(day, to='ordinal')}")
    if month is not None:
        spoken.append(MONTHS[month - 1])
    if year_digits is not None:
        spoken.append(year(year_digits))
    return " ".join(spoken)


def _month(part: str) -> int:
    if part.isdigit() and 1 <= int(part) <= 12:
        return int(part)
    for index, name in enumerate(MONTHS):
        if len(part) >= 3 and name.lower().startswith(part.lower()):
            return index + 1
    raise ValueError(f'"{part}" is not a month')


def _time(text: str, _: str | None) -> str:
    return spell_times(text)


def _telephone(text: str, _: str | None) -> str:
    return spoken_phone(text)


def _currency(text: str, _: str | None) -> str:
    return spell_money(text)


_KINDS: dict[str, Callable[[str, str | None], str]] = {
    "characters": _characters,
    "spell-out": _characters,
    "verbatim": _characters,
    "cardinal": _cardinal,
    "number": _cardinal,
    "ordinal": _ordinal,
    "digits": _digits,
    "date": _date,
    "time": _time,
    "telephone": _telephone,
    "currency": _currency,
}
KINDS = frozenset(_KINDS)


def say_as(text: str, interpret_as: str, date_format: str | None) -> str:
    """The words for `text` read as `interpret_as` (one of KINDS); ValueError when the text
    is not of that kind."""
    return _KINDS[interpret_as](text.strip(), date_format)
