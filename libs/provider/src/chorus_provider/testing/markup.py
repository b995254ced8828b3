"""An engine made to speak SSML as the router would send it, for engine tests."""

from __future__ import annotations

from chorus_contracts import SynthesisRequest
from chorus_provider.cancel import CancelSignal
from chorus_provider.engine import Engine
from chorus_text.ssml import compile_ssml


async def speak_ssml(engine: Engine, ssml: str, voice: str) -> bytes:
    """The PCM `engine` makes for `ssml` compiled into segments, in `voice`."""
    markup = compile_ssml(ssml)
    request = SynthesisRequest(text=markup.text, voice=voice, segments=markup.segments)
    chunks = engine.synthesize(request, CancelSignal())
    return b"".join([chunk async for chunk in chunks if isinstance(chunk, bytes)])
