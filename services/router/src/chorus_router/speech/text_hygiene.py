"""Input text made safe to speak, without refusing prose.

Text is NFC-normalized (one code point sequence for what looks the same), loses control
characters (invisible, and able to confuse a provider or reorder what a log shows), and its
markup is neutralized. No provider declares in its capabilities that it accepts SSML yet,
so every provider is treated as not accepting markup: `<` and `>` become the look-alike
quotation marks U+2039 and U+203A. Engines speak those exactly as they speak angle brackets (not
at all), while no SSML or HTML parser can read a tag in them. XML entities (`&lt;`) would be
no better: plain-text engines read them aloud as "and l t".

SSML input keeps its markup for the parser (speech/markup.py), which cleans each segment's
words the same way once the tags are gone.
"""

from __future__ import annotations

import re
import unicodedata

from chorus_contracts import InvalidRequest, SpeechRequest

# C0 and C1 controls except tab and line breaks, unpaired surrogates (not encodable as
# UTF-8), and the bidirectional embedding/override/isolate controls.
_UNSPEAKABLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]"
)
_MARKUP = str.maketrans({"<": "\u2039", ">": "\u203a"})


def clean_text(text: str, *, markup: bool = False) -> str:
    """`text` without control characters, normalized, with markup neutralized unless it is
    `markup` (controls go first: removing one between a letter and its accent lets NFC
    combine the two)."""
    cleaned = unicodedata.normalize("NFC", _UNSPEAKABLE.sub("", text))
    return cleaned if markup else cleaned.translate(_MARKUP)


def clean_request(body: SpeechRequest) -> SpeechRequest:
    """The request with its input and instructions cleaned; refused if no words are left."""
    text = clean_text(body.input, markup=body.is_ssml)
    if not text.strip():
        raise InvalidRequest("input must contain text to speak", param="input")
    instructions = clean_text(body.instructions) if body.instructions is not None else None
    return body.model_copy(update={"input": text, "instructions": instructions})
