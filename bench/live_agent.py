"""A voice agent speaking an LLM's answer as it is written: over a live session, or the way
a client of the OpenAI SDK does it, one request per sentence as each sentence completes.

The same token stream (a paragraph of several sentences, about 20 tokens a second) goes
both ways, round by round on one router. A simulated player starts with the first audio
and plays each chunk after the one before; a chunk that comes after the one before has
played leaves a silence. Live, the answer's first audio is timed from the token that
completes its first clause (where the router's text buffer releases its first piece),
against the same paragraph's first audio over one streamed HTTP request.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from openai import AsyncOpenAI

from bench.live import VOICES
from bench.measure import stream_post
from bench.report import Table
from chorus_router.speech.live import TextBuffer
from support.live_client import Heard, connect, live_url, receive_until, send
from support.stack import Stack

# Its first sentence is long, so a client that waits for whole sentences waits for it.
ANSWER = (
    "The first train to the coast leaves the central station at nine in the morning, and it "
    "reaches the sea a little after eleven. Bring a warm coat, because the wind by the water "
    "is cold in the spring. If you miss that train, another one leaves at noon from the same "
    "platform. The trains back run every hour until late in the evening. Have a lovely day "
    "by the sea."
)
TOKENS_PER_S = 20.0
PCM_BYTES_PER_S = 2 * 24_000
SENTENCE_ENDS = (".", "!", "?")


def llm_tokens(text: str) -> list[str]:
    """Word-sized tokens, each with the space before it, as an LLM's tokenizer cuts them."""
    words = text.split(" ")
    return [words[0], *(" " + word for word in words[1:])]


def first_clause_token(tokens: list[str]) -> int:
    """The index of the token after which the router's text buffer releases a first piece."""
    buffer = TextBuffer()
    for index, token in enumerate(tokens):
        if buffer.append(token):
            return index
    raise ValueError("the answer has no first piece before its end")


@dataclass
class Listened:
    """Audio as a player gets it: (arrival seconds, audio seconds) per chunk, from the
    first token, and when the last token was sent."""

    chunks: list[tuple[float, float]] = field(default_factory=list)
    text_end: float = 0.0

    def heard(self, at: float, size: int) -> None:
        self.chunks.append((at, size / PCM_BYTES_PER_S))

    @property
    def first_audio(self) -> float:
        return self.chunks[0][0]

    def silences(self) -> list[tuple[float, float]]:
        """(when, how long) of each silence after playback begins."""
        gaps: list[tuple[float, float]] = []
        played_to: float | None = None
        for at, seconds in self.chunks:
            if played_to is not None and at > played_to:
                gaps.append((played_to, at - played_to))
            played_to = max(at, played_to or at) + seconds
        return gaps

    def longest_silence(self, after: float = 0.0) -> float:
        return max((gap for when, gap in self.silences() if when + gap > after), default=0.0)


async def _paced(
    tokens: list[str], started: float, each: Callable[[int, str], Awaitable[None]]
) -> None:
    """Each token in turn at the LLM's pace, from `started`."""
    for index, token in enumerate(tokens):
        await asyncio.sleep(max(0.0, started + index / TOKENS_PER_S - time.perf_counter()))
        await each(index, token)


async def live_answer(stack: Stack, engine: str, tokens: list[str]) -> tuple[Listened, float]:
    """The answer over one live session; and its first audio after the first clause's token."""
    listened = Listened()
    clause_at = first_clause_token(tokens)
    clause_sent = 0.0
    session = {"model": engine, "voice": VOICES[engine], "binary": True}
    async with connect(live_url(stack.router.url)) as ws:
        await send(ws, "session.update", session=session)
        await receive_until(ws, Heard(), "session.updated")
        started = time.perf_counter()

        async def token(index: int, text: str) -> None:
            nonlocal clause_sent
            await send(ws, "input_text.append", text=text)
            if index == clause_at:
                clause_sent = time.perf_counter() - started

        async def write() -> None:
            await _paced(tokens, started, token)
            listened.text_end = time.perf_counter() - started
            await send(ws, "input_text.end")

        writer = asyncio.create_task(write())
        async for message in ws:
            if isinstance(message, bytes):
                listened.heard(time.perf_counter() - started, len(message))
        await writer
    return listened, listened.first_audio - clause_sent


async def sdk_answer(stack: Stack, engine: str, tokens: list[str]) -> tuple[Listened, list[float]]:
    """The answer one request per sentence with the OpenAI SDK, each sent once its sentence
    is complete and streamed after the one before; and each request's whole time."""
    listened = Listened()
    client = AsyncOpenAI(base_url=stack.base_url, api_key="unused", max_retries=0)
    sentences: asyncio.Queue[str | None] = asyncio.Queue()
    synthesis: list[float] = []
    started = time.perf_counter()
    written = ""

    async def token(index: int, text: str) -> None:
        nonlocal written
        written += text
        if written.rstrip().endswith(SENTENCE_ENDS):
            sentences.put_nowait(written.strip())
            written = ""

    async def write() -> None:
        await _paced(tokens, started, token)
        listened.text_end = time.perf_counter() - started
        if written.strip():
            sentences.put_nowait(written.strip())
        sentences.put_nowait(None)

    writer = asyncio.create_task(write())
    while (sentence := await sentences.get()) is not None:
        asked = time.perf_counter()
        async with client.audio.speech.with_streaming_response.create(
            model=engine, voice=VOICES[engine], input=sentence, response_format="pcm"
        ) as response:
            async for chunk in response.iter_bytes():
                listened.heard(time.perf_counter() - started, len(chunk))
        synthesis.append(time.perf_counter() - asked)
    await writer
    await client.close()
    return listened, synthesis


@dataclass
class _Rounds:
    clause_to_audio: list[float] = field(default_factory=list)
    http_first: list[float] = field(default_factory=list)
    live_first: list[float] = field(default_factory=list)
    sdk_first: list[float] = field(default_factory=list)
    live_gap_after_text: list[float] = field(default_factory=list)
    live_gap: list[float] = field(default_factory=list)
    sdk_gap: list[float] = field(default_factory=list)
    piece_synthesis: list[float] = field(default_factory=list)


def _measure(stack: Stack, engine: str, rounds: int) -> _Rounds:
    tokens = llm_tokens(ANSWER)
    url = f"{stack.base_url}/audio/speech"
    body: dict[str, object] = {
        "model": engine,
        "voice": VOICES[engine],
        "response_format": "pcm",
        "input": ANSWER,
    }
    kept = _Rounds()
    for _ in range(rounds):
        live, clause_to_audio = asyncio.run(live_answer(stack, engine, tokens))
        http = stream_post(url, body, PCM_BYTES_PER_S)
        sdk, synthesis = asyncio.run(sdk_answer(stack, engine, tokens))
        kept.clause_to_audio.append(clause_to_audio)
        kept.http_first.append(http.first_byte_s)
        kept.live_first.append(live.first_audio)
        kept.sdk_first.append(sdk.first_audio)
        kept.live_gap_after_text.append(live.longest_silence(after=live.text_end))
        kept.live_gap.append(live.longest_silence())
        kept.sdk_gap.append(sdk.longest_silence())
        kept.piece_synthesis.append(statistics.median(synthesis))
    return kept


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b >= 1.0 else "-"


def llm_stream(stack: Stack, rounds: int = 3) -> list[Table]:
    """Two tables: the live session against its targets, and against the SDK client."""
    tokens = llm_tokens(ANSWER)
    what = (
        f"an LLM's answer of {len(ANSWER.split())} words in {ANSWER.count('.')} sentences "
        f"written at {TOKENS_PER_S:g} tokens a second (pcm; median of {rounds} rounds)"
    )
    targets = Table(
        "live-llm",
        f"Live speech of {what}: first audio after the first clause vs the same paragraph's "
        "first audio over HTTP, and the longest silence after the text ends vs one piece's "
        "synthesis",
        "make bench BENCH=live",
        [
            "engine",
            "clause to audio ms",
            "HTTP first audio ms",
            "difference ms",
            "silence after text ms",
            "piece synthesis ms",
            "silence/piece",
        ],
    )
    against = Table(
        "live-sdk",
        "The answer of the table above: a live session vs one OpenAI SDK request per "
        "sentence, sent as each sentence completes",
        "make bench BENCH=live",
        [
            "engine",
            "first audio live ms",
            "first audio SDK ms",
            "first audio live/SDK",
            "longest silence live ms",
            "longest silence SDK ms",
            "silence live/SDK",
        ],
    )
    # Every engine measured before any row is printed: a table prints as it fills.
    measured = {engine: _measure(stack, engine, rounds) for engine in VOICES}
    for engine, kept in measured.items():
        clause, http = _ms(kept.clause_to_audio), _ms(kept.http_first)
        after, piece = _ms(kept.live_gap_after_text), _ms(kept.piece_synthesis)
        targets.add(engine, clause, http, clause - http, after, piece, _ratio(after, piece))
    for engine, kept in measured.items():
        live_first, sdk_first = _ms(kept.live_first), _ms(kept.sdk_first)
        live_gap, sdk_gap = _ms(kept.live_gap), _ms(kept.sdk_gap)
        against.add(
            engine,
            live_first,
            sdk_first,
            _ratio(live_first, sdk_first),
            live_gap,
            sdk_gap,
            _ratio(live_gap, sdk_gap),
        )
    targets.note(
        f"Tokens are words; the first clause ends at token {first_clause_token(tokens) + 1} "
        f"of {len(tokens)}. Targets: difference <= 30 ms; silence/piece <= 1. A piece's "
        "synthesis is the median whole time of one sentence's streamed request."
    )
    against.note(
        "First audio is timed from the first token; a silence is a player's wait for a "
        'chunk after the one before has played ("-": under 1 ms against which to divide). '
        "The SDK client streams each sentence's request after the one before, as its "
        "player plays them in order. Rounds alternate: live, one HTTP request of the whole "
        "paragraph, the SDK client."
    )
    return [targets, against]
