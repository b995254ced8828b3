"""An engine made to speak SSML as the router would send it, for engine tests."""

from __future__ import annotations

from dataclasses import dataclass

from chorus_contracts import FrameReader, MarkTimestamp, SynthesisRequest, WordTimestamp
from chorus_provider.body import BodyWriter
from chorus_provider.cancel import CancelSignal
from chorus_provider.engine import Engine
from chorus_text.ssml import compile_ssml


async def speak_ssml(engine: Engine, ssml: str, voice: str) -> bytes:
    """The PCM `engine` makes for `ssml` compiled into segments, in `voice`."""
    markup = compile_ssml(ssml)
    request = SynthesisRequest(text=markup.text, voice=voice, segments=markup.segments)
    chunks = engine.synthesize(request, CancelSignal())
    return b"".join([chunk async for chunk in chunks if isinstance(chunk, bytes)])


@dataclass(frozen=True)
class TimedSpeech:
    """What a provider's timed-audio body carries: PCM, word timings and marks."""

    pcm: bytes
    words: list[WordTimestamp]
    marks: list[MarkTimestamp]


async def speak_ssml_timed(engine: Engine, ssml: str, voice: str) -> TimedSpeech:
    """`speak_ssml` with word timings asked, read back from the body the service sends."""
    markup = compile_ssml(ssml)
    request = SynthesisRequest(
        text=markup.text, voice=voice, segments=markup.segments, timestamps=True
    )
    writer = BodyWriter(timed=True, sample_rate=engine.capabilities().sample_rate)
    reader = FrameReader()
    pcm = bytearray()
    words: list[WordTimestamp] = []
    marks: list[MarkTimestamp] = []
    async for item in engine.synthesize(request, CancelSignal()):
        for frame in reader.feed(writer.write(item)):
            pcm += frame.audio
            words += frame.words
            marks += frame.marks
    reader.finish()
    return TimedSpeech(bytes(pcm), words, marks)


async def assert_timed_as_written(engine: Engine, voice: str) -> None:
    """A `<sub>` and a `<phoneme>` are timed as written where their words are said, and a
    `<mark>` falls between the words around it: what every timing engine must do."""
    spoken = await speak_ssml_timed(
        engine,
        '<speak>The <sub alias="World Wide Web">WWW</sub> is <mark name="here"/>big, '
        'says <phoneme alphabet="ipa" ph="ʒɑːn">Jean</phoneme>.</speak>',
        voice,
    )
    words = {w.word: w for w in spoken.words}
    assert list(words) == ["The", "WWW", "is", "big", "says", "Jean"]
    # The written word spans the three words said for it.
    assert words["WWW"].end_time - words["WWW"].start_time > 0.5
    assert words["The"].end_time <= words["WWW"].start_time < words["is"].start_time
    assert [m.name for m in spoken.marks] == ["here"]
    assert words["is"].end_time <= spoken.marks[0].time <= words["big"].start_time
