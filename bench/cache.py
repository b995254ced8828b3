"""The response cache: the same request cold (synthesized) and warm (served from the store).

Each round speaks a text no earlier round spoke, so its first request is a miss and its
repeat a hit (checked from X-Chorus-Cache); cold and warm requests alternate, so load on the
machine slows both alike.
"""

from __future__ import annotations

from bench.measure import Run, median, stream_post
from bench.texts import MEDIUM, SHORT

REPEATS = 3
# Kokoro makes the 78-word paragraph at about real time here, past a whole-file request's
# 30 s deadline on a loaded machine: it speaks the sentence only.
CASES = (
    ("piper", "joe", "short", SHORT),
    ("piper", "joe", "medium", MEDIUM),
    ("kokoro", "jf_alpha", "short", SHORT),
)


def cold_vs_warm(base_url: str) -> None:
    print(f"\n## Response cache: cold (synthesized) vs warm (stored), mp3, median of {REPEATS}")
    print(
        f"{'engine':8} {'text':6} {'cold whole ms':>14} {'warm whole ms':>14} {'speed-up':>9}"
        f" {'cold TTFA ms':>13} {'warm TTFA ms':>13} {'speed-up':>9}"
    )
    for model, voice, label, text in CASES:
        whole = _pairs(base_url, model, voice, text, streamed=False)
        streamed = _pairs(base_url, model, voice, text, streamed=True)
        cold, warm = median(whole[0], "seconds"), median(whole[1], "seconds")
        cold_ttfa = median(streamed[0], "first_byte_s")
        warm_ttfa = median(streamed[1], "first_byte_s")
        print(
            f"{model:8} {label:6} {cold * 1000:14.1f} {warm * 1000:14.1f}"
            f" {cold / warm:8.1f}x {cold_ttfa * 1000:13.1f} {warm_ttfa * 1000:13.1f}"
            f" {cold_ttfa / warm_ttfa:8.1f}x"
        )


def _pairs(
    base_url: str, model: str, voice: str, text: str, streamed: bool
) -> tuple[list[Run], list[Run]]:
    cold: list[Run] = []
    warm: list[Run] = []
    for n in range(REPEATS):
        body = {
            "model": model,
            "voice": voice,
            "input": f"{text} This is round {n}, {'streamed' if streamed else 'whole'}.",
            "response_format": "mp3",
            "stream": streamed,
        }
        for runs, expected in ((cold, "miss"), (warm, "hit")):
            run = stream_post(f"{base_url}/audio/speech", body, 48_000)
            if run.cache != expected:
                raise RuntimeError(f"expected a cache {expected}, the router said {run.cache}")
            runs.append(run)
    return cold, warm
