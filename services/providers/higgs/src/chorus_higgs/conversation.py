"""A synthesis request as the chat Higgs Audio v2 was trained on (system, scene, turns).

Cloning follows the model's own two forms: with the reference's transcript
(`voice_reference_text`) the reference is an earlier assistant turn answering that text;
without one it is SPEAKER0's voice in the scene description, and the text is said by
SPEAKER0, as in Higgs' multi-speaker cloning.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import numpy.typing as npt

from chorus_contracts import InvalidRequest, SynthesisRequest
from chorus_higgs.settings import HiggsSettings

_SPEAKER_TAG = re.compile(r"\[SPEAKER\d+\]")

Message = dict[str, Any]


def _text(text: str) -> dict[str, str]:
    return {"type": "text", "text": text}


def build_conversation(
    request: SynthesisRequest,
    settings: HiggsSettings,
    reference: npt.NDArray[np.float32] | None,
) -> list[Message]:
    """The messages for `processor.apply_chat_template(..., add_generation_prompt=True)`."""
    scene: list[dict[str, Any]] = [_text(scene_description(request, settings))]
    text = request.text.strip()
    turns: list[Message] = []
    if reference is not None and request.voice_reference_text:
        turns += [
            {"role": "user", "content": [_text(request.voice_reference_text)]},
            {"role": "assistant", "content": [{"type": "audio", "audio": reference}]},
        ]
    elif reference is not None:
        scene += [_text("SPEAKER0:"), {"type": "audio", "audio": reference}]
        if not _SPEAKER_TAG.search(text):
            text = f"[SPEAKER0] {text}"
    return [
        {"role": "system", "content": [_text(settings.system_prompt)]},
        {"role": "scene", "content": scene},
        *turns,
        {"role": "user", "content": [_text(text)]},
    ]


def scene_description(request: SynthesisRequest, settings: HiggsSettings) -> str:
    """The request's instructions, else the configured scene."""
    instructions = (request.instructions or "").strip()
    if len(instructions) > settings.max_instructions_chars:
        raise InvalidRequest(
            f"instructions are {len(instructions)} characters; Higgs here takes at most "
            f"{settings.max_instructions_chars}",
            param="instructions",
        )
    return instructions or settings.scene
