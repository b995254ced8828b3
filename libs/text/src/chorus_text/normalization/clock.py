"""Dates and times of day: ISO and US numeric dates, month names, 12- and 24-hour clocks."""

from __future__ import annotations

import re

from chorus_text.normalization.numbers import cardinal, words, year

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTH_NAMES = "|".join(MONTHS)
_ISO_DATE = re.compile(r"\b(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")
_US_DATE = re.compile(r"\b(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])/(\d{4})\b")
_MONTH_DAY = re.compile(
    rf"\b({_MONTH_NAMES})\.?\s+([1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\b(,?\s+\d{{4}}\b)?"
)
_DAY_MONTH = re.compile(
    rf"\b([1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\s+({_MONTH_NAMES})\b(\s+\d{{4}}\b)?"
)
# "p.m." loses its last full stop, unless that stop also ends the sentence.
_MERIDIEM = r"([AaPp])\.?\s?[Mm]\b(?:\.(?!\s*$|\s+[A-Z]))?"
_TIME = re.compile(rf"\b([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?:\s?{_MERIDIEM})?")
_HOUR_MERIDIEM = re.compile(rf"\b(1[0-2]|0?[1-9])\s?{_MERIDIEM}")


def spell_dates(text: str) -> str:
    """ "2024-03-15", "3/15/2024", "March 15, 2024" -> "March fifteenth twenty twenty-four"."""
    text = _ISO_DATE.sub(lambda m: spoken_date(int(m.group(2)), m.group(3), m.group(1)), text)
    text = _US_DATE.sub(lambda m: spoken_date(int(m.group(1)), m.group(2), m.group(3)), text)
    text = _MONTH_DAY.sub(
        lambda m: spoken_date(MONTHS.index(m.group(1)) + 1, m.group(2), _year_in(m.group(3))), text
    )
    return _DAY_MONTH.sub(
        lambda m: (
            f"the {words(m.group(1), to='ordinal')} of {m.group(2)}"
            + (f" {year(m.group(3).strip())}" if m.group(3) else "")
        ),
        text,
    )


def spell_times(text: str) -> str:
    """ "3:30 pm" -> "three thirty p m", "15:05" -> "fifteen oh five", "7am" -> "seven a m"."""
    text = _TIME.sub(_time, text)
    return _HOUR_MERIDIEM.sub(lambda m: f"{cardinal(m.group(1))} {_meridiem(m.group(2))}", text)


def spoken_date(month: int, day: str, year_digits: str | None) -> str:
    """(3, "15", "2024") -> "March fifteenth twenty twenty-four"; the year may be left out."""
    spoken = f"{MONTHS[month - 1]} {words(day, to='ordinal')}"
    return f"{spoken} {year(year_digits)}" if year_digits else spoken


def _year_in(group: str | None) -> str | None:
    return group.strip(", ") if group else None


def _time(match: re.Match[str]) -> str:
    hour, minute, second, meridiem = match.groups()
    spoken = cardinal(hour.lstrip("0") or "0")
    if minute == "00" and meridiem is None and second is None:
        spoken += " hundred" if len(hour) == 2 and int(hour) > 12 else " o'clock"
    elif minute != "00":
        spoken += f" oh {cardinal(minute[1])}" if minute[0] == "0" else f" {cardinal(minute)}"
    if second is not None:
        spoken += f" and {cardinal(second.lstrip('0') or '0')} seconds"
    if meridiem is not None:
        spoken += f" {_meridiem(meridiem)}"
    return spoken


def _meridiem(letter: str) -> str:
    return "a m" if letter.lower() == "a" else "p m"
