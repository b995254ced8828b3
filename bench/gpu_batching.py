"""Batched generation in the torch providers: one request at a time against eight at once.

Dia and Higgs run as real provider processes from their own torch environments
(`scripts/gpu_env.sh env`), serving the tiny random models their tests build, saved to a
temporary folder. Each provider speaks `REQUESTS` different texts one after another, then
all of them at once, `ROUNDS` times each way; the figures are audio seconds per wall second
(throughput), the time to the first audio byte (p50 of every round's requests), and whether
each text's samples are the same alone and in every batch (every request samples from its
own generator, seeded alike).

The processes inherit this environment, and `CHORUS_TORCH_DEVICE` (cpu unless set) picks
their device, so `CHORUS_TORCH_DEVICE=cuda make bench BENCH=gpu-batching` is the same run
on a GPU.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from bench.measure import percentile
from bench.report import ROOT, Table
from support.processes import ServiceProcess, free_port

REQUESTS = 8
# Each way is run this many times: whether 8 requests that arrive together join in one
# prefill or in two, a step apart, moves their first audio by tens of ms from one round to
# the next on a small CPU; the figures take every round in.
ROUNDS = 3
# One client with a connection per concurrent request, kept alive as a real client would.
_CLIENT = httpx.Client(timeout=600, limits=httpx.Limits(max_keepalive_connections=REQUESTS))
# Samples (16-bit) by which a request's audio alone and in the batch may differ.
TOLERANCE = 2
TEXTS = [
    "Hello there.",
    "The quick brown fox jumps over the lazy dog.",
    "Batching shares each step.",
    "Eight requests speak at once, and each keeps its own voice.",
    "One more sentence.",
    "A request may join while others are already speaking.",
    "Short one.",
    "Every member samples from a generator of its own.",
]


@dataclass(frozen=True)
class _Provider:
    name: str
    voice: str
    # How the tiny model is saved (run in the provider's environment, its tests on the path).
    save: str
    env: Callable[[Path], dict[str, str]]
    body: Callable[[str], dict[str, object]]


_PROVIDERS = [
    _Provider(
        name="dia",
        voice="S1",
        save="from tiny_dia import save_tiny_dia; save_tiny_dia(root)",
        env=lambda root: {"CHORUS_DIA_MODEL_PATH": str(root)},
        # The tiny Dia never ends by itself: every request runs 120 steps.
        body=lambda text: {"text": f"[S1] {text}", "voice": "S1", "extra": {"max_new_tokens": 120}},
    ),
    _Provider(
        name="higgs",
        voice="smart",
        save="from tiny_model import build_tiny_higgs; build_tiny_higgs(root)",
        env=lambda root: {
            "CHORUS_HIGGS_MODEL_PATH": str(root / "generation"),
            "CHORUS_HIGGS_CODEC_PATH": str(root / "tokenizer"),
            # 1 s plus 0.05 s a character: 1.5 to 4 s of audio, 40 to 100 steps.
            "CHORUS_HIGGS_SECONDS_PER_CHAR": "0.05",
            "HF_HUB_OFFLINE": "1",
        },
        body=lambda text: {"text": text, "voice": "smart"},
    ),
]


@dataclass(frozen=True)
class _Heard:
    seconds: float
    first_audio_s: float
    samples: np.ndarray
    rate: int

    @property
    def audio_s(self) -> float:
        return len(self.samples) / self.rate


def alone_vs_batched(logs: Path) -> Table:
    device = os.environ.get("CHORUS_TORCH_DEVICE", "cpu")
    table = Table(
        "gpu-batching",
        f"Batched generation, tiny random models on {device}: {REQUESTS} texts one at a time, "
        f"then all {REQUESTS} at once, {ROUNDS} rounds each (audio seconds per wall second; "
        "first audio p50)",
        "make bench BENCH=gpu-batching",
        ["provider", "device", "x realtime at 1", f"x realtime at {REQUESTS}",
         f"throughput {REQUESTS}/1", "first audio p50 ms at 1",
         f"first audio p50 ms at {REQUESTS}", f"first audio {REQUESTS}/1",
         "same audio alone and batched"],
    )  # fmt: skip
    for provider in _PROVIDERS:
        process = _start(provider, device, logs)
        try:
            url = f"{process.url}/v1/synthesize"
            _speak(url, provider.body("Warming up."))
            bodies = [provider.body(text) for text in TEXTS[:REQUESTS]]
            alone = [[_speak(url, body) for body in bodies] for _ in range(ROUNDS)]
            batched: list[list[_Heard]] = []
            batch_wall = 0.0
            for _ in range(ROUNDS):
                started = time.perf_counter()
                with ThreadPoolExecutor(REQUESTS) as pool:
                    batched.append(list(pool.map(_speak, [url] * REQUESTS, bodies)))
                batch_wall += time.perf_counter() - started
        finally:
            process.stop()
        every_alone = [heard for round_ in alone for heard in round_]
        every_batched = [heard for round_ in batched for heard in round_]
        rate_1 = sum(h.audio_s for h in every_alone) / sum(h.seconds for h in every_alone)
        rate_n = sum(h.audio_s for h in every_batched) / batch_wall
        first_1 = percentile([h.first_audio_s * 1000 for h in every_alone], 50)
        first_n = percentile([h.first_audio_s * 1000 for h in every_batched], 50)
        same = sum(_same(a, b) for round_ in batched for a, b in zip(alone[0], round_, strict=True))
        table.add(
            provider.name, device, rate_1, rate_n, f"{rate_n / rate_1:.2f}", first_1, first_n,
            f"{first_n / first_1:.2f}", f"{same}/{REQUESTS * ROUNDS} within ±{TOLERANCE}",
        )  # fmt: skip
    table.note(
        f"Targets: throughput at {REQUESTS} ≥ 3× at 1, first audio p50 at {REQUESTS} ≤ 2× at 1, "
        "the same audio alone and batched."
    )
    return table


def _start(provider: _Provider, device: str, logs: Path) -> ServiceProcess:
    package = ROOT / "services" / "providers" / provider.name
    environment = subprocess.run(
        [str(ROOT / "scripts" / "gpu_env.sh"), "env", str(package)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    python = f"{environment}/bin/python"
    root = logs / f"tiny-{provider.name}"
    root.mkdir()
    script = f"import sys; from pathlib import Path; root = Path(sys.argv[1]); {provider.save}"
    subprocess.run(
        [python, "-c", script, str(root)],
        check=True,
        cwd=package / "tests",
        env={**os.environ, "PYTHONPATH": str(package / "tests")},
        capture_output=True,
    )
    prefix = f"CHORUS_{provider.name.upper()}_"
    port = free_port()
    env = {
        **provider.env(root),
        f"{prefix}PORT": str(port),
        f"{prefix}DEVICE": device,
        f"{prefix}MAX_CONCURRENCY": str(REQUESTS),
        f"{prefix}MAX_QUEUE": str(REQUESTS),
        f"{prefix}QUEUE_TIMEOUT_S": "600",
        f"{prefix}SEED": "7",
        # The batch and the codec run on threads of their own; on a small shared CPU one
        # intra-op thread each keeps OpenMP from spinning against them (both runs alike).
        **({f"{prefix}CPU_THREADS": "1"} if device == "cpu" else {}),
    }
    process = ServiceProcess(
        provider.name, "chorus_provider", port, env, logs, args=(provider.name,), python=python
    )
    process.start()
    try:
        process.wait_ready(timeout_s=300)
    except BaseException:
        process.stop()
        raise
    return process


def _speak(url: str, body: dict[str, object]) -> _Heard:
    started = time.perf_counter()
    first = 0.0
    chunks: list[bytes] = []
    with _CLIENT.stream("POST", url, json=body) as response:
        response.raise_for_status()
        rate = int(response.headers["x-sample-rate"])
        for chunk in response.iter_bytes():
            if not first:
                first = time.perf_counter() - started
            chunks.append(chunk)
    samples = np.frombuffer(b"".join(chunks), dtype="<i2").astype(np.int32)
    return _Heard(time.perf_counter() - started, first, samples, rate)


def _same(alone: _Heard, batched: _Heard) -> bool:
    if len(alone.samples) != len(batched.samples):
        return False
    return bool(np.abs(alone.samples - batched.samples).max(initial=0) <= TOLERANCE)
