"""The normalizer on a table of inputs per category, as an engine would then read them."""

from __future__ import annotations

import pytest

from chorus_contracts import NormalizationOptions
from chorus_text import normalize_text

DEFAULTS = NormalizationOptions()

CASES = {
    "cardinals": [
        ("We had 42 apples.", "We had forty-two apples."),
        ("About 1,250 people came.", "About one thousand two hundred and fifty people came."),
        ("It holds 1,000,000 rows.", "It holds one million rows."),
    ],
    "ordinals": [
        ("The 1st and the 23rd.", "The first and the twenty-third."),
        ("Her 100th run.", "Her one hundredth run."),
    ],
    "decimals": [
        ("Pi is 3.14 or so.", "Pi is three point one four or so."),
        ("Add 0.05 more.", "Add zero point zero five more."),
    ],
    "negatives": [
        ("It fell to -42 overnight.", "It fell to minus forty-two overnight."),
        ("A change of -3.5 points.", "A change of minus three point five points."),
    ],
    "ranges": [
        ("Read pages 5-10 today.", "Read pages five to ten today."),
        ("From 1990–2000 it grew.", "From nineteen ninety to two thousand it grew."),
    ],
    "years": [
        ("Born in 1999 in Oslo.", "Born in nineteen ninety-nine in Oslo."),
        ("Since 2005 nothing.", "Since two thousand five nothing."),
        ("The 1990s were loud.", "The nineteen nineties were loud."),
    ],
    "money": [
        (
            "It costs $1,250.50 now.",
            "It costs one thousand two hundred and fifty dollars and fifty cents now.",
        ),
        ("Just $1 and €2.01.", "Just one dollar and two euros and one cent."),
        ("Pay £5.99 each.", "Pay five pounds and ninety-nine pence each."),
        ("A $1.5 billion deal.", "A one point five billion dollars deal."),
    ],
    "percentages": [
        ("Growth was 50% and -2.5%.", "Growth was fifty percent and minus two point five percent."),
    ],
    "dates": [
        ("Due 2024-03-15.", "Due March fifteenth twenty twenty-four."),
        ("Due 3/15/2024.", "Due March fifteenth twenty twenty-four."),
        ("Due March 15, 2024.", "Due March fifteenth twenty twenty-four."),
        ("On 4 July 1776 it began.", "On the fourth of July seventeen seventy-six it began."),
    ],
    "times": [
        ("Meet at 3:30 pm.", "Meet at three thirty p m."),
        ("Meet at 3:30 p.m. today.", "Meet at three thirty p m today."),
        ("The train leaves at 15:45.", "The train leaves at fifteen forty-five."),
        ("At 9:05 or 7am.", "At nine oh five or seven a m."),
        ("It opens at 3:00.", "It opens at three o'clock."),
        ("Lights out at 22:00.", "Lights out at twenty-two hundred."),
    ],
    "temperatures": [
        ("It was -5°C outside.", "It was minus five degrees Celsius outside."),
        ("Bake at 350°F.", "Bake at three hundred and fifty degrees Fahrenheit."),
    ],
    "urls": [
        (
            "See https://www.example.com/docs now.",
            "See w w w dot example dot com slash docs now.",
        ),
        ("Go to chorus.dev today.", "Go to chorus dot dev today."),
    ],
    "emails": [
        ("Mail jane.doe@example.com today.", "Mail jane dot doe at example dot com today."),
    ],
    "phones": [
        ("Call (555) 123-4567.", "Call five five five, one two three, four five six seven."),
        (
            "Call +44 20 7946 0958.",
            "Call plus four four, two zero, seven nine four six, zero nine five eight.",
        ),
    ],
    "titles and abbreviations": [
        ("Dr. Smith met Mrs. Jones.", "Doctor Smith met Missus Jones."),
        ("On Main St. in St. Louis.", "On Main Street in Saint Louis."),
        ("Fruit, e.g. apples, etc.", "Fruit, for example apples, et cetera"),
        ("Ticket No. 7 won.", "Ticket number seven won."),
    ],
    "optional plurals": [("Check the file(s).", "Check the files.")],
    "remaining symbols": [("R&D + QA = 2 teams.", "R and D plus QA equals two teams.")],
}
TABLE = [(category, given, said) for category, rows in CASES.items() for given, said in rows]


@pytest.mark.parametrize(("category", "given", "said"), TABLE)
def test_english_is_read_out(category: str, given: str, said: str) -> None:
    assert normalize_text(given, DEFAULTS) == said, category


def test_units_are_spelled_only_when_asked() -> None:
    text = "A 10KB file over 5 km at 1 kg."
    assert normalize_text(text, DEFAULTS) == "A 10KB file over five km at one kg."
    assert normalize_text(text, NormalizationOptions(unit_normalization=True)) == (
        "A ten kilobytes file over five kilometers at one kilogram."
    )


def test_each_option_turns_its_rule_off() -> None:
    off = NormalizationOptions(
        url_normalization=False,
        email_normalization=False,
        phone_normalization=False,
        optional_pluralization_normalization=False,
        replace_remaining_symbols=False,
    )
    text = "Mail a@b.com, see x.org for item(s) & more."
    assert normalize_text(text, off) == text
    phone = "Call (555) 123-4567."
    assert normalize_text(phone, off) != normalize_text(phone, DEFAULTS)
    assert "five five five," not in normalize_text(phone, off)


def test_normalize_false_leaves_the_text_alone() -> None:
    text = "  $5 at 3:30 pm, Dr. Who &  co.  "
    assert normalize_text(text, NormalizationOptions(normalize=False)) == text


@pytest.mark.parametrize(
    ("language", "given", "said"),
    [
        ("fr-fr", "J'ai 42 pommes.", "J'ai quarante-deux pommes."),
        ("de", "Es sind -3 Grad.", "Es sind minus drei Grad."),
        ("es", "Tengo 21 años.", "Tengo veintiuno años."),
        ("ja", "りんごが 3 個", "りんごが 三 個"),
    ],
)
def test_other_languages_get_their_numbers_from_num2words(
    language: str, given: str, said: str
) -> None:
    assert normalize_text(given, DEFAULTS, language) == said


def test_a_language_num2words_lacks_is_left_alone() -> None:
    assert normalize_text("Ni 5 na 12.", DEFAULTS, "sw") == "Ni 5 na 12."


@pytest.mark.parametrize("number", ["9" * 400, "12" * 300 + ".5", "1" * 400 + "th"])
def test_very_long_numbers_are_spoken_never_a_failure(number: str) -> None:
    said = normalize_text(f"Code {number} ends.", NormalizationOptions(), "en")
    assert said.startswith("Code ")
    assert said.endswith(" ends.")
    assert not any(ch.isdigit() for ch in said), said


def test_the_longest_number_is_read_digit_by_digit() -> None:
    said = normalize_text(f"Code {'9' * 400}.", NormalizationOptions(), "en")
    assert said == "Code " + " ".join(["nine"] * 400) + "."
