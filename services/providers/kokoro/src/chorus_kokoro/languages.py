"""Language codes as clients send them, mapped to the espeak-ng codes Kokoro phonemizes with.

Clients of Kokoro-FastAPI send one-letter `lang_code`s (`a` American, `b` British...), others
send BCP 47 tags (`en`, `en-US`, `pt`); voice ids carry the same letter as their first
character (`af_heart` is American English, `jf_alpha` Japanese).
"""

from __future__ import annotations

from chorus_contracts.languages import LETTER_CODES

# A bare language picks the variant Kokoro was trained on.
_BARE = {"en": "en-us", "fr": "fr-fr", "pt": "pt-br", "zh": "cmn", "ja": "ja"}
_GENDERS = {"f": "female", "m": "male"}


def normalize_language(code: str) -> str:
    """`a`, `en`, `EN_us` -> `en-us`; unknown codes come back normalized for the caller to judge."""
    norm = code.strip().lower().replace("_", "-")
    return LETTER_CODES.get(norm) or _BARE.get(norm) or norm


def voice_language(voice_id: str) -> str | None:
    """The language a voice was trained on, from Kokoro's `<lang><gender>_<name>` convention."""
    if len(voice_id) < 3 or voice_id[2] != "_":
        return None
    return LETTER_CODES.get(voice_id[0])


def voice_gender(voice_id: str) -> str | None:
    if len(voice_id) < 3 or voice_id[2] != "_":
        return None
    return _GENDERS.get(voice_id[1])
