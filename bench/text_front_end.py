"""The text front-end's figures: first audio with a short first piece, WER of the streamed
audio, and caption alignment against an independent listener (Whisper base)."""

from __future__ import annotations

import base64
import difflib
import statistics
import time
from pathlib import Path

import httpx

from bench.listener import Listener, plain_words, word_error_rate
from bench.raw_engines import RawKokoro, RawPiper
from bench.texts import LONG
from support.stack import Stack, entry, start_provider, start_router

REPEATS = 3
FIRST_SENTENCE = LONG.split(". ")[0] + "."
# Two sentences each, the first longer than ten words so the short first piece matters.
WER_TEXTS = [
    "The old lighthouse keeper climbed the narrow stairs every evening before the storm "
    "arrived. He lit the lamp and watched the ships.",
    "After a long and difficult winter, the villagers gathered in the square to plant the "
    "first seeds. Children ran between the rows.",
    "Our team measured the temperature of the lake at several depths during the summer of "
    "that year. The results surprised everyone.",
    "She opened the letter slowly because she already knew what the doctor would say about "
    "the results. Then she smiled.",
    "When the concert finally began, the orchestra played a quiet piece that nobody in the "
    "audience had heard before. It was beautiful.",
]
CAPTION_TEXTS = [
    "Hello there, this is Chorus speaking. Captions should follow every word I say.",
    "The quick brown fox jumps over the lazy dog, and then it rests under a tall tree.",
    "Please call me tomorrow morning at nine, or send a short message before lunch.",
]

# Left unnormalized, these read as more or fewer words in espeak-ng's phonemes than they have
# ("3:30", "$1,250", "in the", "Dr."), so Piper speaks them word by word to time them.
SPLIT_TEXTS = [
    "At 3:30 pm, Dr. Smith paid $1,250 for a well-known car in the city.",
    "Hello world... this is it, said the co-pilot of flight 2049 to the tower.",
    "We met at 10 in the morning, and the meeting ran until half past 12.",
    "The twenty-five boxes weigh 340 kg in total, more or less, said Mr. Jones.",
]
_RAW: dict[str, object] = {"normalization_options": {"normalize": False}}


def start_stack(logs: Path) -> Stack:
    """Each engine twice: as shipped (short first piece) and with whole first sentences."""
    sentences = {"FIRST_PIECE_MAX_WORDS": "0"}
    providers = {
        "kokoro": start_provider("kokoro", logs),
        "kokoro-sentences": start_provider(
            "kokoro",
            logs,
            "kokoro-sentences",
            {f"CHORUS_KOKORO_{k}": v for k, v in sentences.items()},
        ),
        "piper": start_provider("piper", logs),
        "piper-sentences": start_provider(
            "piper", logs, "piper-sentences", {f"CHORUS_PIPER_{k}": v for k, v in sentences.items()}
        ),
        "espeak": start_provider("espeak", logs),
    }
    registry = logs / "text-providers.yaml"
    Stack.write_registry_file(
        registry, [entry(name, proc, [name]) for name, proc in providers.items()]
    )
    stack = Stack(start_router(registry, logs), providers, registry)
    for proc in providers.values():
        proc.wait_ready()
    stack.router.wait_ready("/healthz")
    stack.wait_for_states({name: True for name in providers})
    return stack


def _first_audio_s(stack: Stack, model: str, voice: str, text: str) -> float:
    """Seconds to the first audio byte through the router; then the client leaves (the
    rest of a long Kokoro text would take minutes here)."""
    body = {"model": model, "voice": voice, "input": text, "response_format": "pcm"}
    started = time.perf_counter()
    with httpx.stream("POST", f"{stack.base_url}/audio/speech", json=body, timeout=600) as r:
        r.raise_for_status()
        next(r.iter_bytes())
        return time.perf_counter() - started


def first_audio(stack: Stack) -> None:
    print("\n## Short first piece: first audio of the long text, through the router (pcm)")
    print(f"first sentence: {len(FIRST_SENTENCE.split())} words")
    kokoro, piper = RawKokoro(), RawPiper()
    rows = {
        "kokoro": ("jf_alpha", kokoro, "whole"),
        "piper": ("joe", piper, "first"),
    }
    print(
        f"{'engine':8} {'raw first sentence ms':>22} {'sentence-only ms':>17} "
        f"{'short first ms':>15} {'short/raw':>10} {'short-raw ms':>13}"
    )
    for name, (voice, raw, which) in rows.items():
        raws: list[float] = []
        before: list[float] = []
        after: list[float] = []
        for _ in range(REPEATS):
            raws.append(_raw_first(raw, which))
            before.append(_first_audio_s(stack, f"{name}-sentences", voice, LONG))
            after.append(_first_audio_s(stack, name, voice, LONG))
        r, b, a = (statistics.median(v) * 1000 for v in (raws, before, after))
        print(f"{name:8} {r:22.0f} {b:17.0f} {a:15.0f} {a / r:10.2f} {a - r:13.0f}")
    print(
        "raw first sentence: Kokoro = kokoro-onnx create() of the first sentence as a whole "
        "file; Piper = PiperVoice.synthesize() of it, to its first chunk"
    )


def _raw_first(raw: RawKokoro | RawPiper, which: str) -> float:
    """The raw library on the first sentence: the whole file, or its first chunk."""
    started = time.perf_counter()
    _, first = raw(FIRST_SENTENCE)
    return time.perf_counter() - started if which == "whole" else first


def streamed_wer(stack: Stack, listener: Listener) -> None:
    print(f"\n## Streamed WER: Whisper base on the streamed audio ({len(WER_TEXTS)} texts)")
    print(f"{'engine':8} {'sentence-only WER %':>20} {'short first WER %':>18} {'difference':>11}")
    for name, voice in (("kokoro", "jf_alpha"), ("piper", "joe")):
        totals = {"sentences": [0, 0], "short": [0, 0]}
        for text in WER_TEXTS:
            reference = plain_words(text)
            for label, model in (("sentences", f"{name}-sentences"), ("short", name)):
                pcm = httpx.post(
                    f"{stack.base_url}/audio/speech",
                    json={"model": model, "voice": voice, "input": text, "response_format": "pcm"},
                    timeout=600,
                ).content
                heard = [w for h in listener.hear(pcm, 24_000) for w in plain_words(h.word)]
                edits, count = word_error_rate(reference, heard)
                totals[label][0] += edits
                totals[label][1] += count
        before = 100 * totals["sentences"][0] / totals["sentences"][1]
        after = 100 * totals["short"][0] / totals["short"][1]
        print(f"{name:8} {before:20.1f} {after:18.1f} {after - before:+11.1f}")


def caption_alignment(stack: Stack, listener: Listener) -> None:
    print("\n## Caption alignment: captioned_speech word starts vs Whisper base's word timestamps")
    print(f"{'engine':26} {'words matched':>14} {'median |dstart| s':>18} {'p90 |dstart| s':>15}")
    runs: list[tuple[str, str, str, list[str], dict[str, object]]] = [
        ("kokoro", "kokoro", "jf_alpha", CAPTION_TEXTS, {}),
        ("espeak", "espeak", "en-us", CAPTION_TEXTS, {}),
        ("piper", "piper", "joe", CAPTION_TEXTS, {}),
        ("piper, split/joined words", "piper", "joe", SPLIT_TEXTS, _RAW),
    ]
    for label, model, voice, texts, options in runs:
        deltas: list[float] = []
        matched = total = 0
        for text in texts:
            request = {"model": model, "voice": voice, "input": text, "response_format": "pcm"}
            body = httpx.post(
                f"{stack.router.url}/api/v1/audio/captioned_speech",
                json=request | options,
                timeout=600,
            ).json()
            ours = body["timestamps"]
            heard = listener.hear(base64.b64decode(body["audio"]), 24_000)
            mine = [plain_words(w["word"])[0] if plain_words(w["word"]) else "" for w in ours]
            theirs = [plain_words(h.word)[0] if plain_words(h.word) else "" for h in heard]
            pairs = difflib.SequenceMatcher(a=mine, b=theirs, autojunk=False)
            for block in pairs.get_matching_blocks():
                for k in range(block.size):
                    deltas.append(abs(ours[block.a + k]["start_time"] - heard[block.b + k].start))
            matched += sum(b.size for b in pairs.get_matching_blocks())
            total += len(ours)
        ordered = sorted(deltas)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        median = statistics.median(deltas)
        print(f"{label:26} {f'{matched}/{total}':>14} {median:18.3f} {p90:15.3f}")


def run(logs: Path) -> None:
    folder = logs / "text-front-end"
    folder.mkdir()
    stack = start_stack(folder)
    try:
        first_audio(stack)
        listener = Listener()
        streamed_wer(stack, listener)
        caption_alignment(stack, listener)
    finally:
        stack.stop()
