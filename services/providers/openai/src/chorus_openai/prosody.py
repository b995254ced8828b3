"""SSML prosody as OpenAI can take it: words in `instructions`, or one speed.

gpt-4o-mini-tts follows `instructions` in plain language, so each span with a rate, pitch,
volume or emphasis becomes a short sentence ("Say "right now" slowly and louder.") added to
the request's own instructions. tts-1 takes no instructions: its one `speed` carries the
text's rate (the mean over its words), and the rest is lost. Both are approximations, which
the router reports.
"""

from __future__ import annotations

from chorus_contracts import SpeechSegment

# These many spans are described at most, each quoting this many characters of its words:
# the sentence stays short enough not to crowd out the user's own instructions.
MAX_SPANS = 4
MAX_QUOTE_CHARS = 40
MAX_INSTRUCTIONS_CHARS = 4096
MIN_SPEED, MAX_SPEED = 0.25, 4.0
_HIGH = {"high", "x-high"}
_LOW = {"low", "x-low"}


def prosody_instructions(segments: list[SpeechSegment]) -> str | None:
    """A sentence per span whose prosody differs from the request's; None when none does."""
    sentences = []
    for segment in segments:
        manner = _manner(segment)
        if manner and segment.text.strip():
            sentences.append(f'Say "{_quote(segment.text)}" {" and ".join(manner)}.')
    if not sentences:
        return None
    shown = sentences[:MAX_SPANS]
    if len(sentences) > MAX_SPANS:
        shown.append("Keep the same manner for the other marked phrases.")
    return " ".join(shown)


def with_prosody(instructions: str | None, segments: list[SpeechSegment] | None) -> str | None:
    """The request's instructions followed by its prosody's, within the vendor's bound."""
    prosody = prosody_instructions(segments) if segments else None
    if prosody is None:
        return instructions
    joined = f"{instructions.rstrip()} {prosody}" if instructions else prosody
    return joined[:MAX_INSTRUCTIONS_CHARS]


def rate_as_speed(speed: float, segments: list[SpeechSegment] | None) -> float:
    """`speed` times the text's rate, each segment weighted by its length, within range."""
    spoken = [s for s in segments or [] if s.text]
    total = sum(len(s.text) for s in spoken)
    if not total:
        return speed
    rate = sum(s.rate * len(s.text) for s in spoken) / total
    return round(min(max(speed * rate, MIN_SPEED), MAX_SPEED), 3)


def _manner(segment: SpeechSegment) -> list[str]:
    manner = []
    if segment.rate < 0.95:
        manner.append("slowly" if segment.rate < 0.8 else "a little slowly")
    elif segment.rate > 1.05:
        manner.append("quickly" if segment.rate > 1.25 else "a little quickly")
    pitch = (segment.pitch or "").strip().lower()
    if pitch in _HIGH or pitch.startswith("+"):
        manner.append("at a higher pitch")
    elif pitch in _LOW or pitch.startswith("-"):
        manner.append("at a lower pitch")
    if segment.volume_db > 1:
        manner.append("louder")
    elif segment.volume_db < -1:
        manner.append("more softly")
    if segment.emphasis in ("strong", "moderate"):
        manner.append("with emphasis")
    elif segment.emphasis == "reduced":
        manner.append("lightly")
    return manner


def _quote(text: str) -> str:
    # The span's closing punctuation is the sentence's, not part of the quoted words.
    words = " ".join(text.replace('"', "'").split()).rstrip(".,;:!?")
    return words if len(words) <= MAX_QUOTE_CHARS else words[: MAX_QUOTE_CHARS - 3] + "..."
