"""Run every benchmark against a fresh local stack and print the tables.

Measurements of the things compared are interleaved in one run, so a noisy neighbour
slows both sides alike; the ratios are what to read.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bench import cache, leaving, raw_engines, text_front_end
from bench.compatible import chunked_first_audio
from bench.local_stack import start_bench_stack
from bench.measure import Run, median, percentile, stream_post, timed
from bench.texts import LONG, MEDIUM, SHORT, words
from support.stack import Stack, start_router

REPEATS = 3


def engine_rtf(stack: Stack) -> None:
    print(
        "\n## Real-time factor: provider service vs the raw library (median of 3; lower is faster)"
    )
    print(f"{'engine':8} {'text':6} {'raw RTF':>9} {'service RTF':>12} {'service/raw':>12}")
    raw = {
        "espeak": raw_engines.espeak,
        "piper": raw_engines.RawPiper(),
        "kokoro": raw_engines.RawKokoro(),
    }
    voices = {"espeak": "en-us", "piper": "joe", "kokoro": "jf_alpha"}
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
                service_runs.append(stream_post(url, {"text": text, "voice": voices[name]}, 44_100))
            r, s = median(raw_runs, "rtf"), median(service_runs, "rtf")
            print(f"{name:8} {label:6} {r:9.3f} {s:12.3f} {s / r:12.2f}")


def first_audio(stack: Stack) -> None:
    print("\n## Time to first audio: through the router (pcm) vs direct to the provider")
    print(
        f"{'engine':8} {'text':6} {'direct ms':>10} {'router ms':>10} {'added ms':>9}"
        f" {'whole text ms':>14}"
    )
    models = {"espeak": ("espeak", "en-us"), "piper": ("piper", "joe")}
    for name, (model, voice) in models.items():
        for label, text in (("short", SHORT), ("long", LONG)):
            direct: list[Run] = []
            routed: list[Run] = []
            for _ in range(REPEATS):
                direct.append(
                    stream_post(
                        f"{stack.providers[name].url}/v1/synthesize",
                        {"text": text, "voice": voice},
                        44_100,
                    )
                )
                routed.append(
                    stream_post(
                        f"{stack.base_url}/audio/speech",
                        {"model": model, "voice": voice, "input": text, "response_format": "pcm"},
                        48_000,
                    )
                )
            d, r = median(direct, "first_byte_s") * 1000, median(routed, "first_byte_s") * 1000
            whole = median(direct, "seconds") * 1000
            print(f"{name:8} {label:6} {d:10.1f} {r:10.1f} {r - d:9.1f} {whole:14.0f}")


def router_overhead(stack: Stack, count: int = 60) -> None:
    print(
        f"\n## Router overhead on the happy path: {count} short espeak requests each, interleaved"
    )
    direct_ms: list[float] = []
    routed_ms: list[float] = []
    for _ in range(count):
        direct_ms.append(
            stream_post(
                f"{stack.providers['espeak'].url}/v1/synthesize",
                {"text": SHORT, "voice": "en-us"},
                44_100,
            ).seconds
            * 1000
        )
        routed_ms.append(
            stream_post(
                f"{stack.base_url}/audio/speech",
                {"model": "espeak", "voice": "en-us", "input": SHORT, "response_format": "pcm"},
                48_000,
            ).seconds
            * 1000
        )
    print(f"{'path':8} {'p50 ms':>8} {'p95 ms':>8}")
    for label, values in (("direct", direct_ms), ("router", routed_ms)):
        print(f"{label:8} {percentile(values, 50):8.1f} {percentile(values, 95):8.1f}")
    print(
        f"{'added':8} {percentile(routed_ms, 50) - percentile(direct_ms, 50):8.1f}"
        f" {percentile(routed_ms, 95) - percentile(direct_ms, 95):8.1f}"
    )


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


def main() -> None:
    """All benchmarks; `python -m bench cache` (say) runs only the ones named."""
    only = set(sys.argv[1:])
    print(f"Texts: short = {words(SHORT)} words, long = {words(LONG)} words")
    with tempfile.TemporaryDirectory(prefix="chorus-bench-") as logs:
        on_stack = {"rtf", "first-audio", "overhead", "leaving", "cache"}
        stack = start_bench_stack(Path(logs)) if not only or only & on_stack else None
        try:
            for name, bench in (
                ("rtf", engine_rtf),
                ("first-audio", first_audio),
                ("overhead", router_overhead),
                ("leaving", leaving.leaving_to_idle),
            ):
                if stack is not None and (not only or name in only):
                    bench(stack)
            if stack is not None and (not only or "leaving" in only):
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


if __name__ == "__main__":
    main()
