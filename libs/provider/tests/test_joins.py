"""A sentence engine is told where its pieces meet inside a sentence (the short first piece
and the rest), so an engine can speak a piece in the context of its neighbours."""

from __future__ import annotations

from chorus_contracts import Capabilities, SynthesisRequest, TextChunking, VoiceInfo
from chorus_provider import CancelSignal, Join, Rendering, SentenceEngine

RATE = 8000


class _RecordingEngine(SentenceEngine):
    """Each piece as 10 ms of silence; the pieces it was given, with their joins."""

    def __init__(self) -> None:
        super().__init__(workers=1, chunking=TextChunking(max_chars=300, first_piece_max_words=10))
        self.given: list[tuple[str, Join]] = []

    async def load(self) -> None:
        return None

    def capabilities(self) -> Capabilities:
        return Capabilities(
            provider="rec",
            engine="rec",
            models=["rec"],
            voices=[VoiceInfo(id="v", name="v")],
            languages=["en"],
            sample_rate=RATE,
            max_text_length=1000,
            streaming=True,
        )

    def check(self, request: SynthesisRequest) -> None:
        return None

    def render(self, piece: str, request: SynthesisRequest, cancel: CancelSignal) -> bytes:
        return bytes(2 * RATE // 100)

    def render_joined(
        self, piece: str, join: Join, request: SynthesisRequest, cancel: CancelSignal
    ) -> bytes | Rendering:
        self.given.append((piece, join))
        return super().render_joined(piece, join, request, cancel)


async def test_pieces_inside_one_sentence_are_told_their_neighbours() -> None:
    engine = _RecordingEngine()
    text = (
        "The old lighthouse keeper climbed the narrow stairs every evening before the storm "
        "arrived. He lit the lamp."
    )
    request = SynthesisRequest(text=text, voice="v")
    chunks = [chunk async for chunk in engine.synthesize(request, CancelSignal())]
    head = "The old lighthouse keeper climbed"
    assert engine.given == [
        (head, Join(after="the")),
        ("the narrow stairs every evening before the storm arrived.", Join(before=head)),
        ("He lit the lamp.", Join()),
    ]
    # The default speaks each piece alone; the head ends on the clause pause.
    assert [len(c) for c in chunks if isinstance(c, bytes)] == [
        160 + 2 * round(0.12 * RATE),
        160,
        160,
    ]
