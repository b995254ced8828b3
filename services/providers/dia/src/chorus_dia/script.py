"""What Dia reads: a dialogue script with speaker tags, and the options a request may set."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chorus_contracts import InvalidRequest, SpeechSegment

SPEAKERS = ("S1", "S2")
_TAG = re.compile(r"\[S[12]\]")


class DiaOptions(BaseModel):
    """`extra` fields Dia's own inference code exposes; unset ones follow the model's config."""

    model_config = ConfigDict(extra="forbid")

    max_new_tokens: int | None = Field(default=None, ge=1, le=3072)
    temperature: float | None = Field(default=None, gt=0, le=3)
    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = Field(default=None, ge=1, le=1024)
    guidance_scale: float | None = Field(default=None, ge=1, le=10)

    @classmethod
    def of(cls, extra: dict[str, Any]) -> DiaOptions:
        try:
            return cls.model_validate(extra)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidRequest(f"extra.{where}: {first['msg']}", param=f"extra.{where}") from None

    def sampling(self) -> dict[str, Any]:
        fields = ("temperature", "top_p", "top_k", "guidance_scale")
        return {name: getattr(self, name) for name in fields if getattr(self, name) is not None}


def tagged(text: str, speaker: str) -> str:
    """Text with speaker tags as is; untagged text is spoken by `speaker`."""
    text = text.strip()
    return text if _TAG.match(text) else f"[{speaker}] {text}"


def segments_script(segments: list[SpeechSegment], speaker: str) -> str:
    """SSML segments as one script: a speaker tag wherever the speaker changes (a segment's
    `<voice>`, S1 or S2; else `speaker`). Dia has no pause, pitch or rate of its own, so
    the rest of the markup is left out (the router reports it as approximated)."""
    parts: list[str] = []
    current = None
    for segment in segments:
        if not segment.text.strip():
            continue
        who = segment.voice if segment.voice in SPEAKERS else speaker
        if who != current:
            parts.append(f"[{who}]")
            current = who
        parts.append(segment.text.strip())
    # Plain spaces: chorus_text.ssml's joining would bring its XML parser into Dia's image.
    return " ".join(parts)


def dialogue_script(text: str, speaker: str, transcript: str | None) -> str:
    """The prompt's transcript (when known) followed by the text to speak.

    Dia continues its audio prompt: it clones best when the prompt's words come first, as
    its own examples do. Without them the sample still sets the voice, less faithfully.
    """
    if transcript is None:
        return tagged(text, speaker)
    return f"{tagged(transcript, speaker)} {tagged(text, speaker)}"
