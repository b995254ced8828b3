"""Run every benchmark against a fresh local stack and print the tables.

Measurements of the things compared are interleaved in one run, so a noisy neighbour
slows both sides alike; the ratios are what to read.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from bench import (
    balance,
    cache,
    cold_start,
    gpu_batching,
    jobs,
    leaving,
    live,
    live_agent,
    live_sessions,
    raw_engines,
    text_front_end,
    throughput,
)
from bench.compatible import chunked_first_audio
from bench.local_stack import start_bare_proxy, start_bench_stack
from bench.measure import Run, median, percentile, stream_post, timed
from bench.report import Table, publish
from bench.texts import LONG, MEDIUM, SHORT, words
from support.stack import Stack, start_router

REPEATS = 3


VOICES = {"espeak": "en-us", "piper": "joe", "kokoro": "jf_alpha"}


def engine_rtf(stack: Stack) -> Table:
    table = Table(
        "rtf",
        f"Real-time factor: provider service vs the raw library (median of {REPEATS}; lower "
        "is faster)",
        "make bench BENCH=rtf",
        ["engine", "text", "raw RTF", "service RTF", "service/raw"],
    )
    raw = {
        "espeak": raw_engines.espeak,
        "piper": raw_engines.RawPiper(),
        "kokoro": raw_engines.RawKokoro(),
    }
    for name in ("espeak", "piper", "kokoro"):
        # Kokoro runs ~0.5x real time here: its long text would take minutes per repeat.
        texts = (
            (("short", SHORT), ("medium", MEDIUM))
            if name == "kokoro"
            else (("short", SHORT), ("long", LONG))
        )
        for label, text in texts:
            raw_runs: list[Run] = []
            service_runs: list[Run] = []
            url = f"{stack.providers[name].url}/v1/synthesize"
            for _ in range(REPEATS):
                raw_runs.append(timed(lambda text=text, name=name: raw[name](text)))
                service_runs.append(stream_post(url, {"text": text, "voice": VOICES[name]}, 44_100))
            r, s = median(raw_runs, "rtf"), median(service_runs, "rtf")
            table.add(name, label, f"{r:.3f}", f"{s:.3f}", f"{s / r:.2f}")
    return table


def first_audio(stack: Stack) -> Table:
    table = Table(
        "first-audio",
        f"Time to first audio: direct to the provider vs through the router (pcm), median of "
        f"{REPEATS}",
        "make bench BENCH=first-audio",
        ["engine", "text", "direct ms", "router ms", "whole text ms"],
    )
    for name in ("espeak", "piper"):
        for label, text in (("short", SHORT), ("long", LONG)):
            direct: list[Run] = []
            routed: list[Run] = []
            for _ in range(REPEATS):
                direct.append(_direct(stack, name, text))
                routed.append(_routed(stack.base_url, name, text))
            d, r = median(direct, "first_byte_s") * 1000, median(routed, "first_byte_s") * 1000
            table.add(name, label, d, r, median(direct, "seconds") * 1000)
    return table


_PATHS = ("direct", "router", "bare")


def router_overhead(stack: Stack) -> Table:
    """First byte of the short sentence: direct, through the router and through a bare proxy
    (the floor: `bench.bare_proxy`), request by request."""
    counts = {"espeak": 60, "piper": 40, "kokoro": 30}
    table = Table(
        "router-overhead",
        "Router overhead: first byte of the short sentence through the router (pcm) vs "
        "directly from the provider, interleaved request by request, and a bare proxy's",
        "make bench BENCH=overhead",
        ["engine", "requests", "direct p50 ms", "router p50 ms", "added p50 ms",
         "direct p90 ms", "router p90 ms", "added p90 ms", "paired added p50 ms",
         "added p50 ms, engine time out", "bare proxy added p50 ms, engine time out"],
    )  # fmt: skip
    bare = start_bare_proxy(stack)
    try:
        bare.wait_ready("/healthz")
        for name, count in counts.items():
            runs: dict[str, list[Run]] = {path: [] for path in _PATHS}
            for number in range(count):
                # Each path goes first, second and third in turn: a Kokoro request's first
                # audio depends on what ran just before it (by +20-40 ms at the p50 for the
                # one that always went first), which the raw figures would read as the
                # router's.
                for path in _PATHS[number % 3 :] + _PATHS[: number % 3]:
                    if path == "direct":
                        runs[path].append(_direct(stack, name, SHORT))
                    else:
                        url = stack.base_url if path == "router" else f"{bare.url}/v1"
                        runs[path].append(_routed(url, name, SHORT))
            table.add(name, count, *_overhead(runs))
    finally:
        bare.stop()
    return table


def _overhead(runs: dict[str, list[Run]]) -> list[float]:
    direct_ms = [run.first_byte_s * 1000 for run in runs["direct"]]
    routed_ms = [run.first_byte_s * 1000 for run in runs["router"]]
    d50, r50 = percentile(direct_ms, 50), percentile(routed_ms, 50)
    d90, r90 = percentile(direct_ms, 90), percentile(routed_ms, 90)
    # Each request's added time against the direct request of its round.
    paired = statistics.median(r - d for d, r in zip(direct_ms, routed_ms, strict=True))
    # The engine's own time to its first audio (its Server-Timing) varies by more than the
    # router adds (Piper's by +-10 ms); taken out of each first byte, what is left is the
    # hops and the proxy, and the difference of medians is the proxy's part.
    beyond = {
        path: statistics.median(run.beyond_engine_s for run in path_runs) * 1000
        for path, path_runs in runs.items()
    }
    return [
        d50, r50, r50 - d50, d90, r90, r90 - d90, paired,
        beyond["router"] - beyond["direct"], beyond["bare"] - beyond["direct"],
    ]  # fmt: skip


def _direct(stack: Stack, engine: str, text: str) -> Run:
    body = {"text": text, "voice": VOICES[engine]}
    return stream_post(f"{stack.providers[engine].url}/v1/synthesize", body, 44_100)


def _routed(base_url: str, engine: str, text: str) -> Run:
    body = {"model": engine, "voice": VOICES[engine], "input": text, "response_format": "pcm"}
    return stream_post(f"{base_url}/audio/speech", body, 48_000)


def response_cache(stack: Stack, logs: Path) -> None:
    """A second router, cache on (the default), in front of the same providers."""
    cached = start_router(stack.registry_file, logs)
    try:
        cached.wait_ready("/healthz")
        Stack(cached, stack.providers, stack.registry_file).wait_for_states(
            {name: True for name in stack.providers}
        )
        cache.cold_vs_warm(f"{cached.url}/v1")
    finally:
        cached.stop()


def tracing_overhead(logs: Path, count: int = 40) -> None:
    """Two tone stacks, one exporting spans to a local OTLP receiver, one not; interleaved."""
    from support.otlp_receiver import OtlpReceiver
    from support.tone_stack import start_tone_provider, tone_entries

    print(
        f"\n## Tracing overhead: {count} requests each, exporting to a local OTLP receiver vs not"
    )
    with OtlpReceiver() as receiver:
        stacks: dict[str, Stack] = {}
        for label, env in (("off", {}), ("on", {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint})):
            folder = logs / f"trace-{label}"
            folder.mkdir()
            a = start_tone_provider("a", folder)
            b = start_tone_provider("b", folder)
            registry = folder / "providers.yaml"
            Stack.write_registry_file(registry, tone_entries(a, b))
            stacks[label] = Stack(start_router(registry, folder, env), {"a": a, "b": b}, registry)
        try:
            for stack in stacks.values():
                stack.router.wait_ready("/healthz")
                stack.wait_for_states({"a": True, "b": True})
            times: dict[str, list[float]] = {"off": [], "on": []}
            body = {"model": "tone", "voice": "alloy", "input": SHORT, "response_format": "pcm"}
            for _ in range(count):
                for label, stack in stacks.items():
                    times[label].append(
                        stream_post(f"{stack.base_url}/audio/speech", body, 48_000).seconds * 1000
                    )
        finally:
            for stack in stacks.values():
                stack.stop()
        exported = len(receiver.snapshot())
    print(f"{'tracing':8} {'p50 ms':>8} {'p95 ms':>8}")
    for label in ("off", "on"):
        print(f"{label:8} {percentile(times[label], 50):8.1f} {percentile(times[label], 95):8.1f}")
    print(f"spans received by the OTLP receiver: {exported}")


def fault_run_report(logs: Path) -> None:
    from support.fault_run import fault_run
    from support.tone_stack import start_tone_provider, tone_entries

    print("\n## Fault run: 8 clients x 25 requests; primary SIGKILLed and restarted twice")
    a, b = start_tone_provider("a", logs), start_tone_provider("b", logs)
    registry = logs / "tone-providers.yaml"
    Stack.write_registry_file(registry, tone_entries(a, b))
    stack = Stack(start_router(registry, logs), {"a": a, "b": b}, registry)
    try:
        a.wait_ready()
        b.wait_ready()
        stack.router.wait_ready("/healthz")
        stack.wait_for_states({"a": True, "b": True})
        report = fault_run(stack, logs)
    finally:
        stack.stop()
    print(
        f"requests {report.requests}, succeeded {report.statuses[200]}, failed "
        f"{report.failures}, streams cut when their provider died mid-way "
        f"{report.cut_mid_stream}, mixed voices {report.mixed_voices}"
    )
    print(f"served by primary {report.served_by['a']}, by fallback {report.served_by['b']}")
    for name, value in sorted(report.router_counters.items()):
        print(f"{name} {value:g}")


def live_section(stack: Stack) -> list[Table]:
    """Live speech: turns against HTTP, an LLM's token stream, barge-in, idle sessions."""
    return [
        live.flush_to_first_audio(stack),
        *live_agent.llm_stream(stack),
        live_sessions.barge_in(stack),
        live_sessions.idle_sessions(stack),
    ]


def main() -> None:
    """All benchmarks; `python -m bench cache` (say) runs only the ones named."""
    only = set(sys.argv[1:])
    print(f"Texts: short = {words(SHORT)} words, long = {words(LONG)} words")
    with tempfile.TemporaryDirectory(prefix="chorus-bench-") as logs:
        on_stack = {"rtf", "first-audio", "overhead", "throughput", "leaving", "cache", "live"}
        stack = start_bench_stack(Path(logs)) if not only or only & on_stack else None
        tables: list[Table] = []
        try:
            for name, measure in (
                ("overhead", router_overhead),
                ("rtf", engine_rtf),
                ("first-audio", first_audio),
            ):
                if stack is not None and (not only or name in only):
                    tables.append(measure(stack))
            if stack is not None and (not only or "live" in only):
                tables += live_section(stack)
            if stack is not None and (not only or "throughput" in only):
                tables.append(throughput.two_clients(stack, Path(logs)))
            if stack is not None and (not only or "leaving" in only):
                leaving.leaving_to_idle(stack)
                leaving.ttfa_under_encoding_load(stack, Path(logs))
            if stack is not None and (not only or "cache" in only):
                response_cache(stack, Path(logs))
        finally:
            if stack is not None:
                stack.stop()
        if not only or "tracing" in only:
            tracing_overhead(Path(logs))
        if not only or "faults" in only:
            fault_run_report(Path(logs))
        if not only or "chunked" in only:
            chunked_first_audio(Path(logs))
        if not only or "text-front-end" in only:
            text_front_end.run(Path(logs))
        if not only or "jobs" in only:
            tables.append(jobs.job_against_saturated(Path(logs)))
        # `jobs-resume` alone runs the kill-and-restart table without the long books.
        if not only or only & {"jobs", "jobs-resume"}:
            tables.append(jobs.resumed_after_kill(Path(logs)))
        if not only or "balance" in only:
            tables.append(balance.least_request_vs_round_robin(Path(logs)))
        if not only or "cold-start" in only:
            tables.append(cold_start.held_while_it_wakes(Path(logs)))
        if not only or "gpu-batching" in only:
            tables.append(gpu_batching.alone_vs_batched(Path(logs)))
    publish(tables)


if __name__ == "__main__":
    main()
