"""Time to first audio through chorus-openai to a server that makes whole clips: one request
for the text vs one request per sentence (CHORUS_OPENAI_CHUNKING=sentence)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.measure import Run, median, stream_post
from bench.texts import LONG, words
from fakes.compatible_fake import SENTENCE_WORK_S
from fakes.process import start_fake
from support.stack import start_provider

REPEATS = 3


def chunked_first_audio(logs: Path) -> None:
    fake = start_fake("compatible", logs, "unused")
    common = {
        "CHORUS_OPENAI_BASE_URL": f"{fake.url}/v1",
        "CHORUS_OPENAI_VERIFY_KEY": "false",
        "CHORUS_OPENAI_MODEL_MAP": json.dumps({"tts-1": "kokoro"}),
        "CHORUS_OPENAI_READ_TIMEOUT_S": "120",
    }
    providers = {
        "none": start_provider("openai", logs, "whole", common),
        "sentence": start_provider(
            "openai", logs, "chunked", {**common, "CHORUS_OPENAI_CHUNKING": "sentence"}
        ),
    }
    try:
        for proc in providers.values():
            proc.wait_ready()
        runs: dict[str, list[Run]] = {name: [] for name in providers}
        body = {"text": LONG, "voice": "af_heart", "model": "tts-1"}
        for _ in range(REPEATS):
            for name, proc in providers.items():
                runs[name].append(stream_post(f"{proc.url}/v1/synthesize", body, 48_000))
        print(
            f"\n## Time to first audio through chorus-openai to a whole-clip server "
            f"({words(LONG)} words, {SENTENCE_WORK_S:g} s of work per sentence; median of "
            f"{REPEATS})"
        )
        print(f"{'CHUNKING':9} {'first audio s':>14} {'whole text s':>13}")
        for name in providers:
            print(f"{name:9} {median(runs[name], 'first_byte_s'):14.2f} "
                  f"{median(runs[name], 'seconds'):13.2f}")  # fmt: skip
        ratio = median(runs["sentence"], "first_byte_s") / median(runs["none"], "first_byte_s")
        print(f"first audio, sentence / none: {ratio:.3f}")
    finally:
        for proc in providers.values():
            proc.stop()
        fake.stop()
