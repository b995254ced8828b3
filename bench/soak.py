"""`make soak`: mixed clients at about 80 % of measured capacity, with providers killed.

A benchmark, not a test: 127.0.0.1 only, bounded in time (SOAK_SECONDS, default 600) and
in requests in flight (SOAK_MAX_IN_FLIGHT). Clients mix audio streams, SSE and whole files
in every format over Piper (model tts-1, falling back to espeak-ng), Kokoro and espeak-ng;
some leave early. Every SOAK_KILL_EVERY_S (default 120) a provider process is SIGKILLed
and started again, as a supervisor would, alternating Piper and espeak-ng (Kokoro, the
heaviest process, lives throughout so its growth can be read).

It prints what was sent, served, refused (429/503 with Retry-After), left on purpose, cut
mid-stream by a kill (a stream whose provider died after its first byte cannot be
rescued without splicing voices) and lost (anything else that failed: must be 0); TTFA
per engine; RSS and open file descriptors of each process at the first-kill mark and at
the end; and the engine time spent on requests whose client had already left.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.local_stack import start_bench_stack
from bench.measure import percentile
from bench.texts import LONG, MEDIUM, SHORT
from support.idleness import counter, cpu_seconds
from support.processes import ServiceProcess
from support.stack import Stack, entry

FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
MODES = ("audio", "sse", "whole_file")
# model -> (voice, the provider that serves it while all are up)
MODELS = {
    "tts-1": ("alloy", "piper"),
    "kokoro": ("jf_alpha", "kokoro"),
    "espeak": ("en-us", "espeak"),
}
# Kokoro costs ~10x Piper's CPU per second of audio: a smaller share keeps the mix varied.
MODEL_WEIGHTS = (0.45, 0.15, 0.40)
LEAVE_SHARE = 0.15
KILL_ROTATION = ("piper", "espeak")


@dataclass(frozen=True)
class Spec:
    model: str
    mode: str
    fmt: str
    text: str
    leave: bool


@dataclass
class Tally:
    outcomes: Counter[str] = field(default_factory=Counter)
    ttfa: dict[str, list[float]] = field(default_factory=dict)
    kills: list[tuple[float, str]] = field(default_factory=list)
    details: Counter[str] = field(default_factory=Counter)

    def killed_near(self, provider: str | None, at: float) -> bool:
        return any(
            abs(at - when) < 3.0 and (provider is None or provider == name)
            for when, name in self.kills
        )


def _spec(rng: random.Random) -> Spec:
    model = rng.choices(list(MODELS), weights=MODEL_WEIGHTS)[0]
    leave = rng.random() < LEAVE_SHARE
    # Kokoro runs near real time on two shared cores: it gets the short text.
    text = LONG if leave else (SHORT if model == "kokoro" else rng.choice((SHORT, MEDIUM)))
    return Spec(model, rng.choice(MODES), rng.choice(FORMATS), text, leave)


async def _request(client: httpx.AsyncClient, url: str, spec: Spec, tally: Tally) -> str:
    voice, _ = MODELS[spec.model]
    body: dict[str, object] = {
        "model": spec.model,
        "voice": voice,
        "input": spec.text,
        "response_format": spec.fmt,
    }
    if spec.mode == "sse":
        body["stream_format"] = "sse"
    if spec.mode == "whole_file":
        body["stream"] = False
    started = time.monotonic()
    provider: str | None = None
    try:
        async with client.stream("POST", url, json=body, timeout=120) as response:
            if response.status_code != 200:
                await response.aread()
                if response.status_code in (429, 503) and "retry-after" in response.headers:
                    return "refused"
                tally.details[f"status {response.status_code}"] += 1
                return "lost"
            provider = response.headers.get("x-chorus-provider")
            tail = b""
            async for chunk in response.aiter_raw():
                if not tail and provider is not None and spec.mode != "whole_file":
                    tally.ttfa.setdefault(provider, []).append(time.monotonic() - started)
                tail = (tail + chunk)[-200:]
                if spec.leave:
                    return "left"
            if spec.mode == "sse" and b"speech.audio.done" not in tail:
                return "cut" if tally.killed_near(provider, time.monotonic()) else "lost"
            return "served"
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        if tally.killed_near(provider, time.monotonic()):
            return "cut"
        tally.details[type(exc).__name__] += 1
        return "lost"
    except httpx.HTTPError as exc:
        tally.details[type(exc).__name__] += 1
        return "lost"


async def _whole_file_leaver(client: httpx.AsyncClient, url: str, spec: Spec) -> str:
    voice, _ = MODELS[spec.model]
    body = {"model": spec.model, "voice": voice, "input": spec.text, "stream": False}
    try:
        await asyncio.wait_for(client.post(url, json=body, timeout=120), timeout=0.5)
    except TimeoutError:
        return "left"
    return "served"


async def _one(client: httpx.AsyncClient, url: str, spec: Spec, tally: Tally) -> None:
    if spec.leave and spec.mode == "whole_file":
        outcome = await _whole_file_leaver(client, url, spec)
    else:
        outcome = await _request(client, url, spec, tally)
    tally.outcomes[outcome] += 1


async def _calibrate(url: str, seconds: float, concurrency: int, seed: int) -> float:
    """Requests per second the stack completes with `concurrency` closed-loop clients."""
    rng = random.Random(seed)
    tally = Tally()
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as client:

        async def worker() -> None:
            while time.monotonic() < deadline:
                await _one(client, url, _spec(rng), tally)

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    return tally.outcomes["served"] / elapsed


@dataclass
class _Sample:
    rss_kb: int
    fds: int
    pid: int


def _sample(proc: ServiceProcess) -> _Sample:
    with open(f"/proc/{proc.pid}/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return _Sample(rss, len(os.listdir(f"/proc/{proc.pid}/fd")), proc.pid)


@dataclass
class _Work:
    """A provider's engine-seconds after cancels, engine-seconds busy, and CPU-seconds."""

    after_cancel: float = 0.0
    busy: float = 0.0
    cpu: float = 0.0

    def __add__(self, other: _Work) -> _Work:
        return _Work(
            self.after_cancel + other.after_cancel, self.busy + other.busy, self.cpu + other.cpu
        )


class _WorkForNobody:
    """Each provider's `_Work`, summed over the lifetimes of its processes."""

    def __init__(self, providers: dict[str, ServiceProcess]) -> None:
        self._providers = providers
        self._done = {name: _Work() for name in providers}
        self._live = {name: _Work() for name in providers}

    def scrape(self, name: str) -> None:
        proc = self._providers[name]
        with contextlib.suppress(httpx.HTTPError, OSError):
            # A synthesis's time counts from its arrival: the queue wait is not engine time.
            busy = counter(proc.url, "chorus_provider_synthesis_seconds_sum") - counter(
                proc.url, "chorus_provider_queue_wait_seconds_sum"
            )
            self._live[name] = _Work(
                counter(proc.url, "chorus_provider_cancel_to_idle_seconds_sum"),
                busy,
                cpu_seconds(proc.pid),
            )

    def restarted(self, name: str) -> None:
        self._done[name] += self._live[name]
        self._live[name] = _Work()

    def total(self, name: str) -> _Work:
        return self._done[name] + self._live[name]


async def _soak(stack: Stack, seconds: float, kill_every_s: float, rate: float) -> None:
    url = f"{stack.base_url}/audio/speech"
    max_in_flight = int(os.environ.get("SOAK_MAX_IN_FLIGHT", "12"))
    rng = random.Random(13)
    tally = Tally()
    work = _WorkForNobody(stack.providers)
    processes = {"router": stack.router, **stack.providers}
    samples: dict[str, dict[str, _Sample]] = {}
    first_mark = min(kill_every_s, seconds) - 1.0
    in_flight: set[asyncio.Task[None]] = set()
    shed = sent = 0
    started = time.monotonic()
    next_kill = started + kill_every_s
    next_scrape = started
    kills = 0
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=64)) as client:
        while (now := time.monotonic()) < started + seconds:
            if "mark" not in samples and now - started >= first_mark:
                samples["mark"] = {name: _sample(p) for name, p in processes.items()}
            if now >= next_scrape:
                for name in stack.providers:
                    work.scrape(name)
                next_scrape = now + 5.0
            if now >= next_kill:
                victim = KILL_ROTATION[kills % len(KILL_ROTATION)]
                kills += 1
                work.scrape(victim)
                stack.providers[victim].signal(signal.SIGKILL)
                tally.kills.append((time.monotonic(), victim))
                await asyncio.sleep(0.2)
                work.restarted(victim)
                stack.providers[victim].start()
                next_kill += kill_every_s
            if len(in_flight) >= max_in_flight:
                shed += 1
            else:
                sent += 1
                task = asyncio.create_task(_one(client, url, _spec(rng), tally))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            await asyncio.sleep(rng.expovariate(rate))
        if in_flight:
            await asyncio.wait(in_flight, timeout=120)
    for name in stack.providers:
        work.scrape(name)
    samples["end"] = {name: _sample(p) for name, p in processes.items()}
    _report(seconds, rate, sent, shed, tally, samples, work, list(stack.providers))


def _report(
    seconds: float,
    rate: float,
    sent: int,
    shed: int,
    tally: Tally,
    samples: dict[str, dict[str, _Sample]],
    work: _WorkForNobody,
    providers: list[str],
) -> None:
    o = tally.outcomes
    print(f"\n## Soak: {seconds:.0f} s at {rate:.2f} requests/s, kills {len(tally.kills)}")
    print(
        f"sent {sent}, served {o['served']}, refused (429/503 + Retry-After) {o['refused']}, "
        f"left early on purpose {o['left']}, cut mid-stream by a kill {o['cut']}, "
        f"lost {o['lost']}; not sent (generator at its in-flight cap) {shed}"
    )
    if tally.details:
        print("lost by cause: " + ", ".join(f"{k} {v}" for k, v in tally.details.items()))
    print(f"{'engine':8} {'TTFA p50 ms':>12} {'TTFA p99 ms':>12} {'n':>5}")
    for engine, values in sorted(tally.ttfa.items()):
        print(
            f"{engine:8} {percentile(values, 50) * 1000:12.0f} "
            f"{percentile(values, 99) * 1000:12.0f} {len(values):5}"
        )
    mark = samples.get("mark", {})
    print(
        f"{'process':8} {'RSS@mark MB':>12} {'RSS@end MB':>11} {'growth':>7} "
        f"{'fds@mark':>9} {'fds@end':>8}"
    )
    for name, end in samples["end"].items():
        start = mark.get(name)
        if start is None or start.pid != end.pid:
            growth = "restarted"
            start_rss, start_fds = "-", "-"
        else:
            growth = f"{(end.rss_kb / start.rss_kb - 1) * 100:+.1f}%"
            start_rss, start_fds = f"{start.rss_kb / 1024:.0f}", str(start.fds)
        print(
            f"{name:8} {start_rss:>12} {end.rss_kb / 1024:11.0f} {growth:>7} "
            f"{start_fds:>9} {end.fds:8}"
        )
    total_cpu = 0.0
    for name in providers:
        spent = work.total(name)
        cpu_per_busy_s = spent.cpu / spent.busy if spent.busy else 0.0
        total_cpu += spent.after_cancel * cpu_per_busy_s
        print(
            f"{name:8} engine-s after its client left {spent.after_cancel:7.2f} "
            f"(busy {spent.busy:7.1f} engine-s, {spent.cpu:7.1f} CPU-s)"
        )
    print(f"CPU-s spent on requests whose client had left (estimated): {total_cpu:.2f}")


def _fallback_chain(providers: dict[str, ServiceProcess]) -> list[dict[str, Any]]:
    """tts-1 on Piper falling back to espeak-ng; kokoro and espeak on their own."""
    return [
        entry(
            "piper",
            providers["piper"],
            ["tts-1"],
            voices={"alloy": "joe"},
            routing={"priority": 20, "fallback": ["espeak"]},
        ),
        entry("kokoro", providers["kokoro"], ["kokoro"]),
        entry(
            "espeak",
            providers["espeak"],
            ["espeak", "tts-1"],
            voices={"alloy": "en-us"},
            routing={"priority": 10},
        ),
    ]


def main() -> None:
    seconds = float(os.environ.get("SOAK_SECONDS", "600"))
    kill_every_s = float(os.environ.get("SOAK_KILL_EVERY_S", "120"))
    calibration_s = min(60.0, max(40.0, seconds / 10))
    with tempfile.TemporaryDirectory(prefix="chorus-soak-") as logs:
        stack = start_bench_stack(Path(logs), _fallback_chain)
        try:
            url = f"{stack.base_url}/audio/speech"
            capacity = asyncio.run(_calibrate(url, calibration_s, concurrency=4, seed=7))
            print(f"measured capacity: {capacity:.2f} requests/s over {calibration_s:.0f} s")
            asyncio.run(_soak(stack, seconds, kill_every_s, rate=0.8 * capacity))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
