"""The order the rules run in: the most specific shapes first, bare numbers last.

An e-mail address holds a dot-com that the URL rule would take; a phone number is digits the
number rule would read as one large number; a date holds what looks like a range. So each
rule runs before the more general ones that would misread what it handles.
"""

from __future__ import annotations

from collections.abc import Callable

from chorus_contracts import NormalizationOptions
from chorus_text.normalization.abbreviations import spell_abbreviations
from chorus_text.normalization.addresses import spell_emails, spell_phones, spell_urls
from chorus_text.normalization.clock import spell_dates, spell_times
from chorus_text.normalization.measures import (
    spell_percentages,
    spell_temperatures,
    spell_units,
)
from chorus_text.normalization.money import spell_money
from chorus_text.normalization.numbers import language_of, spell_numbers_en, spell_signed
from chorus_text.normalization.symbols import spell_optional_plurals, spell_symbols, tidy_spaces

_Rule = Callable[[str], str]


def normalize_text(text: str, options: NormalizationOptions, language: str | None = None) -> str:
    """`text` as an engine should read it, for `language` (English when None).

    English gets every rule the options allow; other languages get their numbers from
    num2words, or nothing where it has no such language. `normalize=False` returns `text`.
    """
    if not options.normalize:
        return text
    lang = language_of(language)
    for rule in _rules(options, lang):
        text = rule(text)
    return tidy_spaces(text)


def _rules(options: NormalizationOptions, lang: str | None) -> list[_Rule]:
    if lang is None:
        return []
    if not lang.startswith("en"):
        return [lambda t: spell_signed(t, lang)]
    rules: list[tuple[bool, _Rule]] = [
        (options.optional_pluralization_normalization, spell_optional_plurals),
        (options.email_normalization, spell_emails),
        (options.url_normalization, spell_urls),
        (options.phone_normalization, spell_phones),
        (True, spell_abbreviations),
        (True, spell_dates),
        (True, spell_times),
        (True, spell_money),
        (True, spell_temperatures),
        (True, spell_percentages),
        (options.unit_normalization, spell_units),
        (True, spell_numbers_en),
        (options.replace_remaining_symbols, spell_symbols),
    ]
    return [rule for enabled, rule in rules if enabled]
