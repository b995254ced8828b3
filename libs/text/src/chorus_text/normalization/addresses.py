"""URLs, e-mail addresses and phone numbers, read the way people read them aloud."""

from __future__ import annotations

import re

from chorus_text.normalization.numbers import words

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_URL = re.compile(
    r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|dev|ai|edu|gov|co\.uk|de|fr)\b(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)\]])?",
    re.IGNORECASE,
)
# North American and international forms: (555) 123-4567, 555-123-4567, +1 555 123 4567,
# +44 20 7946 0958. Seven or more digits in groups, so "5-10" and years stay numbers.
_PHONE = re.compile(
    r"(?<![\w+])(\+\d{1,3}[\s.-]?)?(\(\d{2,4}\)\s?|\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}\b"
)
_URL_SYMBOLS = {
    ".": " dot ",
    "/": " slash ",
    "-": " dash ",
    "_": " underscore ",
    "?": " question mark ",
    "=": " equals ",
    "&": " and ",
    "#": " hash ",
    ":": " colon ",
    "~": " tilde ",
    "%": " percent ",
    "+": " plus ",
}
_SPELLED = ("www",)


def spell_emails(text: str) -> str:
    """ "jane.doe@example.com" -> "jane dot doe at example dot com"."""
    return _EMAIL.sub(lambda m: _spoken_address(m.group(0).replace("@", " at ")), text)


def spell_urls(text: str) -> str:
    """ "https://www.example.com/docs" -> "w w w dot example dot com slash docs"."""
    return _URL.sub(lambda m: _spoken_address(re.sub(r"^https?://", "", m.group(0))), text)


def spell_phones(text: str) -> str:
    """ "(555) 123-4567" -> "five five five, one two three, four five six seven"."""
    return _PHONE.sub(_spoken_phone, text)


def _spoken_address(address: str) -> str:
    spoken = "".join(_URL_SYMBOLS.get(ch, ch) for ch in address)
    parts = [" ".join(part) if part.lower() in _SPELLED else part for part in spoken.split()]
    return " ".join(_digits_read(part) for part in parts)


def _digits_read(part: str) -> str:
    return " ".join(words(d) for d in part) if part.isdigit() else part


def _spoken_phone(match: re.Match[str]) -> str:
    return spoken_phone(match.group(0))


def spoken_phone(number: str) -> str:
    """ "+1 (555) 123-4567" -> "plus one, five five five, one two three, four five six seven":
    digit by digit, a pause between groups, the country code after "plus"."""
    country = re.match(r"\s*\+(\d{1,3})[\s.-]", number)
    rest = number[country.end() :] if country else number
    spoken = ", ".join(" ".join(words(d) for d in group) for group in re.findall(r"\d+", rest))
    if country:
        code = " ".join(words(d) for d in country.group(1))
        spoken = f"plus {code}, {spoken}"
    return spoken
