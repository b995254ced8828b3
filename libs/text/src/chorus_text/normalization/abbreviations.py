"""Common English titles and abbreviations, written out."""

from __future__ import annotations

import re

# Titles before a name.
_TITLES = {
    "Mr": "Mister",
    "Mrs": "Missus",
    "Ms": "Miz",
    "Dr": "Doctor",
    "Prof": "Professor",
    "Rev": "Reverend",
    "Gen": "General",
    "Capt": "Captain",
    "Lt": "Lieutenant",
    "Sgt": "Sergeant",
    "Hon": "Honorable",
    "Gov": "Governor",
    "Sen": "Senator",
    "Rep": "Representative",
    "Mt": "Mount",
    "Ft": "Fort",
}
# Abbreviations read the same wherever they stand (with their full stop).
_PLAIN = {
    "Jr.": "Junior",
    "Sr.": "Senior",
    "vs.": "versus",
    "etc.": "et cetera",
    "e.g.": "for example",
    "i.e.": "that is",
    "approx.": "approximately",
    "dept.": "department",
    "Ave.": "Avenue",
    "Blvd.": "Boulevard",
    "Rd.": "Road",
    "Jan.": "January",
    "Feb.": "February",
    "Mar.": "March",
    "Apr.": "April",
    "Aug.": "August",
    "Sept.": "September",
    "Sep.": "September",
    "Oct.": "October",
    "Nov.": "November",
    "Dec.": "December",
}
_TITLE = re.compile(r"\b(" + "|".join(_TITLES) + r")\.?(?=\s+[A-Z])")
# "St." before a name is Saint ("St. Louis"), after one a street ("Main St.").
_SAINT = re.compile(r"\bSt\.?(?=\s+[A-Z])")
_STREET = re.compile(r"(?<=[a-z] )St\.?(?=\s|$)|(?<=[a-z] )St\b")
_NUMBER_SIGN = re.compile(r"\b[Nn]o\.\s?(?=\d)|#(?=\d)")
_PLAIN_RE = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(a) for a in sorted(_PLAIN, key=len, reverse=True)) + r")"
)


def spell_abbreviations(text: str) -> str:
    """ "Dr. Smith" -> "Doctor Smith", "e.g." -> "for example", "No. 5" -> "number 5"."""
    text = _SAINT.sub("Saint", text)
    text = _STREET.sub("Street", text)
    text = _TITLE.sub(lambda m: _TITLES[m.group(1)], text)
    text = _NUMBER_SIGN.sub("number ", text)
    return _PLAIN_RE.sub(lambda m: _PLAIN[m.group(1)], text)
