"""Language codes as clients send them, and whether a provider's languages include one.

Clients send BCP 47 tags (`fr`, `en-US`, `pt_BR`) or Kokoro-FastAPI's one-letter
`lang_code`s (`a` American English, `f` French...). A bare language matches its regional
variants and the other way round (`fr` ~ `fr-fr`); two different regions do not.
"""

from __future__ import annotations

from collections.abc import Iterable

LETTER_CODES = {
    "a": "en-us",
    "b": "en-gb",
    "e": "es",
    "f": "fr-fr",
    "h": "hi",
    "i": "it",
    "j": "ja",
    "p": "pt-br",
    "z": "cmn",
}


def normalize_language(code: str) -> str:
    """`a`, `EN_us` -> `en-us`; anything else lower-cased with hyphens."""
    norm = code.strip().lower().replace("_", "-")
    return LETTER_CODES.get(norm, norm)


def language_matches(offered: str, wanted: str) -> bool:
    """`fr` and `fr-fr` match each other; `en-us` and `en-gb` do not."""
    a, b = normalize_language(offered), normalize_language(wanted)
    return a == b or a.startswith(b + "-") or b.startswith(a + "-")


def speaks(offered: Iterable[str], wanted: str) -> bool:
    """Whether a provider listing `offered` speaks `wanted`; an empty list means any."""
    listed = list(offered)
    return not listed or any(language_matches(lang, wanted) for lang in listed)
