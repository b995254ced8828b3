"""The text front-end's figures: first audio with a short first piece, WER of the streamed
audio, and caption alignment against an independent listener (Whisper base)."""

from __future__ import annotations

import base64
import difflib
import re
import statistics
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import httpx

from bench.raw_engines import RawKokoro, RawPiper
from bench.texts import LONG
from chorus_contracts import InvalidRequest
from chorus_text import split_sentences
from chorus_text.ssml import compile_ssml
from support.processes import ServiceProcess
from support.stack import Stack, entry, start_provider, start_router
from support.transcribe import hear, normalized_words, transcribe, word_error_rate

REPEATS = 3
WER_PIPER_PASSES = 3
FIRST_SENTENCE = LONG.split(". ")[0] + "."
# Two sentences each, the first long (14-19 words) so that the short first piece matters,
# of varied shapes: a clause mark early or late, a conjunction, a preposition, none at all.
# No digits: Whisper writes "six" as "6", which would count as an error on both sides.
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
    "My grandmother kept a small garden behind the house where she grew tomatoes, beans and "
    "herbs. We visited her every Sunday.",
    "During the first week of the festival, thousands of visitors crowded into the narrow "
    "streets of the old town. The hotels were full.",
    "The engineers spent many months testing the new bridge design in a wind tunnel near "
    "the coast. It passed every test.",
    "If you follow the path along the river for about an hour, you will reach a small "
    "wooden cabin. Knock twice on the door.",
    "Scientists believe that the ancient forest once covered most of the valley and the "
    "surrounding hills. Only a few trees remain.",
    "Every morning at dawn, the baker opens his shop and fills the shelves with warm bread. "
    "People wait outside in the cold.",
    "The museum on the corner of the main square is closed on Mondays but stays open late "
    "on Fridays. Entry is free for children.",
    "Although the restaurant was small and quite hard to find, it was always full of hungry "
    "customers. The soup was famous.",
    "A group of students from the local university built a robot that can sort plastic "
    "bottles by color. It won a prize.",
    "The pilot announced that the plane would land a little early because of strong winds. "
    "Everyone cheered.",
    "Most of the books in the library were donated by families who had lived in the town "
    "for generations. Some are very rare.",
    "The farmer walked slowly across the muddy field with two dogs running happily at his "
    "side. The sun was setting.",
    "Last summer my brother and I drove across the whole country in an old van with a "
    "broken radio. We sang all the way.",
    "The city council voted to build a new park with a playground, a pond and a long "
    "walking trail. Work starts in spring.",
    "Nobody expected the quiet young musician to win the national competition in front of "
    "such a large crowd. She bowed and left.",
    "The storm knocked down several trees along the coast road and left the whole village "
    "without power. Repairs took a while.",
    "Her new job at the hospital requires her to wake up very early and work long shifts "
    "on weekends. She likes it anyway.",
    "The river that runs through the center of the city freezes almost every winter for a "
    "few weeks. Children skate on it.",
    "When we finally arrived at the hotel late at night, the receptionist had already gone "
    "home. We slept in the car.",
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
    # The response cache off: each pass must make the audio anew (Piper's noise differs).
    router = start_router(registry, logs, {"CHORUS_ROUTER_ARTIFACTS__CACHE__ENABLED": "false"})
    stack = Stack(router, providers, registry)
    for proc in providers.values():
        proc.wait_ready()
    stack.router.wait_ready("/healthz")
    stack.wait_for_states({name: True for name in providers})
    return stack


def _first_audio_s(stack: Stack, model: str, voice: str, text: str) -> float:
    """Seconds to the first audio byte through the router; then the client leaves (the
    rest of a long Kokoro text would take minutes here) and the provider is let stop, so
    its abandoned piece does not share the cores with the next measurement."""
    body = {"model": model, "voice": voice, "input": text, "response_format": "pcm"}
    started = time.perf_counter()
    with httpx.stream("POST", f"{stack.base_url}/audio/speech", json=body, timeout=600) as r:
        r.raise_for_status()
        next(r.iter_bytes())
        seconds = time.perf_counter() - started
    _wait_until_idle(stack.providers[model])
    return seconds


def _wait_until_idle(provider: ServiceProcess, timeout_s: float = 120) -> None:
    """Until the provider holds no engine slot (its worker threads have returned)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        metrics = httpx.get(f"{provider.url}/metrics", timeout=10).text
        busy = re.search(r"^chorus_provider_in_flight_requests (\S+)$", metrics, re.MULTILINE)
        if busy is not None and float(busy.group(1)) == 0:
            return
        time.sleep(0.1)
    raise TimeoutError(f"{provider.url} still busy after {timeout_s} s")


def first_audio(stack: Stack) -> None:
    print("\n## Short first piece: first audio of the long text, through the router (pcm)")
    first = split_sentences(FIRST_SENTENCE, first_piece_max_words=10)[0]
    print(f"first sentence: {len(FIRST_SENTENCE.split())} words; first piece: {first!r}")
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


def streamed_wer(stack: Stack) -> None:
    words = sum(len(normalized_words(t)) for t in WER_TEXTS)
    texts = len(WER_TEXTS)
    print(f"\n## Streamed WER: Whisper base on the streamed audio ({texts} texts, {words} words)")
    print("words heard otherwise (said -> heard):")
    rows: list[str] = []
    # Kokoro makes the same audio every time; Piper's noise makes each rendering differ (one
    # word in either direction, a text in three), so it is heard several times.
    for name, voice, passes in (("kokoro", "jf_alpha", 1), ("piper", "joe", WER_PIPER_PASSES)):
        edits = {"sentences": 0, "short": 0}
        for text in WER_TEXTS * passes:
            reference = normalized_words(text)
            for label, model in (("sentences", f"{name}-sentences"), ("short", name)):
                pcm = httpx.post(
                    f"{stack.base_url}/audio/speech",
                    json={"model": model, "voice": voice, "input": text, "response_format": "pcm"},
                    timeout=600,
                ).content
                heard = transcribe(pcm, 24_000)
                count = round(word_error_rate(text, heard) * len(reference))
                edits[label] += count
                if count:
                    changes = _differing_words(reference, normalized_words(heard))
                    print(f"  {name:6} {label:9} {'; '.join(changes)}")
        heard_words = words * passes
        before, after = (100 * edits[k] / heard_words for k in ("sentences", "short"))
        rows.append(
            f"{name:8} {passes:>6} {edits['sentences']:>15} {before:9.2f} "
            f"{edits['short']:>13} {after:9.2f} {after - before:+11.2f}"
        )
    print(
        f"{'engine':8} {'passes':>6} {'sentence edits':>15} {'WER %':>9} "
        f"{'short edits':>13} {'WER %':>9} {'difference':>11}"
    )
    print("\n".join(rows))
    print(f"one word is {100 / words:.2f} points in one pass")


def _differing_words(reference: list[str], heard: list[str]) -> list[str]:
    """Where `heard` departs from `reference`: "said -> heard" for each differing run."""
    pairs = difflib.SequenceMatcher(a=reference, b=heard, autojunk=False)
    return [
        f"{' '.join(reference[a1:a2]) or '_'} -> {' '.join(heard[b1:b2]) or '_'}"
        for op, a1, a2, b1, b2 in pairs.get_opcodes()
        if op != "equal"
    ]


def _first_word(text: str) -> str:
    words = normalized_words(text)
    return words[0] if words else ""


def caption_alignment(stack: Stack) -> None:
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
            heard = hear(base64.b64decode(body["audio"]), 24_000)
            mine = [_first_word(w["word"]) for w in ours]
            theirs = [_first_word(h.word) for h in heard]
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


_SSML_SENTENCE = (
    '<s>On <say-as interpret-as="date" format="mdy">03/15/2024</say-as> the '
    '<sub alias="World Health Organization">WHO</sub> paid <say-as interpret-as="currency">'
    '$1,250.50</say-as> <break time="300ms"/><prosody rate="slow" volume="loud">for a '
    '<phoneme alphabet="ipa" ph="təˈmɑːtoʊ">tomato</phoneme></prosody>, '
    "<emphasis>really</emphasis>.</s>"
)
_HOSTILE = {
    # Nine levels of ten: 10^9 "lol"s if expanded.
    "billion laughs": '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    + "]><speak>&lol9;</speak>",
    "external entity": '<!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><speak>&x;</speak>',
    "10k-deep nesting": "<speak>" + "<s>" * 10_000 + "x" + "</s>" * 10_000 + "</speak>",
}


def _median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with suppress(InvalidRequest):
            work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def ssml_compile() -> None:
    print("\n## SSML: parse and compile (chorus_text.ssml.compile_ssml, in-process, median)")
    body = ""
    while len(body) + len(_SSML_SENTENCE) + 15 <= 4096:
        body += _SSML_SENTENCE
    ssml = f"<speak>{body}</speak>"
    segments = len(compile_ssml(ssml).segments)
    print(f"{'input':28} {'chars':>7} {'ms':>8}")
    rows = [(f"SSML text ({segments} segments)", ssml, 200)]
    rows += [(f"{name} (refused)", hostile, 50) for name, hostile in _HOSTILE.items()]
    for label, text, runs in rows:
        print(f"{label:28} {len(text):7} {_median_ms(lambda t=text: compile_ssml(t), runs):8.2f}")


def run(logs: Path) -> None:
    ssml_compile()
    folder = logs / "text-front-end"
    folder.mkdir()
    stack = start_stack(folder)
    try:
        first_audio(stack)
        streamed_wer(stack)
        caption_alignment(stack)
    finally:
        stack.stop()
