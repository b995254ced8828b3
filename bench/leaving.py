"""How fast work stops when nobody waits, and what encoding on the event loop costs.

`leaving_to_idle`: per engine and delivery mode, the client (httpx, closing its
connection) leaves a long request; the figure is the seconds until the provider holds no
request and its process burns no CPU, as a client can observe it, next to the provider's
own cancel-to-idle time.

`ttfa_under_encoding_load`: two routers over the same providers, one encoding on its event
loop (`encode_workers: 0`, how the router worked before) and one in its encode threads;
while four long mp3 streams run through a router, short pcm requests measure its time to
first audio. The two routers take turns, round by round.
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import httpx

from bench.measure import percentile
from bench.texts import LONG, SHORT
from support.idleness import counter, wait_idle
from support.processes import ServiceProcess
from support.stack import Stack, start_router

VOICES = {"espeak": "en-us", "piper": "joe", "kokoro": "jf_alpha"}


def _leave(url: str, body: dict[str, object], after_s: float) -> None:
    """Start the request, read its first bytes (streams) or wait `after_s`, then leave."""
    try:
        with httpx.stream("POST", url, json=body, timeout=after_s) as response:
            for _ in response.iter_raw():
                return
    except httpx.TimeoutException:
        return


def _provider_cancel_to_idle(proc: ServiceProcess) -> tuple[float, float]:
    name = "chorus_provider_cancel_to_idle_seconds"
    return counter(proc.url, f"{name}_sum"), counter(proc.url, f"{name}_count")


def leaving_to_idle(stack: Stack, repeats: int = 3) -> None:
    print(
        f"\n## Client leaves -> engine idle (median of {repeats}; long text; "
        "streams left after the first bytes, whole files after 1 s)"
    )
    print(f"{'engine':8} {'mode':11} {'observed s':>11} {'provider s':>11}")
    modes: dict[str, dict[str, object]] = {
        "audio": {},
        "sse": {"stream_format": "sse"},
        "whole_file": {"stream": False},
    }
    for engine, voice in VOICES.items():
        proc = stack.providers[engine]
        for mode, extra in modes.items():
            observed: list[float] = []
            sum_before, count_before = _provider_cancel_to_idle(proc)
            for _ in range(repeats):
                body = {"model": engine, "voice": voice, "input": LONG, "response_format": "mp3"}
                _leave(f"{stack.base_url}/audio/speech", {**body, **extra}, after_s=1.0)
                observed.append(wait_idle(proc.url, proc.pid, bound_s=60, window_s=0.2))
            sum_after, count_after = _provider_cancel_to_idle(proc)
            cancels = count_after - count_before
            own = (sum_after - sum_before) / cancels if cancels else float("nan")
            print(f"{engine:8} {mode:11} {statistics.median(observed):11.2f} {own:11.3f}")
    print(
        "observed: until the provider's gauges are 0 and its process uses <20% of a core over "
        "0.2 s (includes that window's resolution); provider: its own cancel-to-idle mean"
    )


def _long_streams(url: str, count: int, stop: threading.Event) -> list[threading.Thread]:
    body = {"model": "espeak", "voice": "en-us", "input": LONG * 2, "response_format": "mp3"}

    def run() -> None:
        while not stop.is_set():
            with httpx.stream("POST", url, json=body, timeout=120) as response:
                for _ in response.iter_raw():
                    if stop.is_set():
                        return

    threads = [threading.Thread(target=run, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def _ttfa(url: str) -> float:
    body = {"model": "espeak", "voice": "en-us", "input": SHORT, "response_format": "pcm"}
    return _first_bytes(url, body)


def _provider_ttfa(provider_url: str) -> float:
    """The same short text straight to espeak-ng's provider: its share of a router probe."""
    return _first_bytes(f"{provider_url}/v1/synthesize", {"text": SHORT, "voice": "en-us"})


def _first_bytes(url: str, body: dict[str, object]) -> float:
    started = time.perf_counter()
    with httpx.stream("POST", url, json=body, timeout=60) as response:
        for _ in response.iter_raw():
            return time.perf_counter() - started
    raise RuntimeError("no audio")


def ttfa_under_encoding_load(stack: Stack, logs: Path, rounds: int = 4, probes: int = 8) -> None:
    print(
        "\n## Short-request time to first audio while four long mp3 streams run "
        f"({rounds} rounds x {probes} probes per router, taking turns)"
    )
    # The cache off: every probe repeats one request, and each must be synthesized.
    uncached = {"CHORUS_ROUTER_ARTIFACTS__CACHE__ENABLED": "false"}
    routers = {
        label: start_router(
            stack.registry_file, logs, {"CHORUS_ROUTER_ENCODE_WORKERS": workers, **uncached}
        )
        for label, workers in (("on loop", "0"), ("executor", "2"))
    }
    try:
        for router in routers.values():
            router.wait_ready("/healthz", timeout_s=300)
        time.sleep(1.0)  # the first readiness poll of the providers
        ttfa: dict[str, list[float]] = {label: [] for label in routers}
        idle: dict[str, list[float]] = {label: [] for label in routers}
        direct: dict[str, list[float]] = {label: [] for label in routers}
        espeak = stack.providers["espeak"].url
        for _ in range(rounds):
            for label, router in routers.items():
                url = f"{router.url}/v1/audio/speech"
                idle[label].append(_ttfa(url))
                stop = threading.Event()
                threads = _long_streams(url, 4, stop)
                time.sleep(1.0)
                for _ in range(probes):
                    ttfa[label].append(_ttfa(url))
                    direct[label].append(_provider_ttfa(espeak))
                stop.set()
                for thread in threads:
                    thread.join(timeout=30)
    finally:
        for router in routers.values():
            router.stop()
    print(
        f"{'encoding':9} {'idle p50 ms':>12} {'loaded p50 ms':>14} {'loaded p90 ms':>14}"
        f" {'provider alone p50 ms':>22} {'router part ms':>15}"
    )
    for label in routers:
        print(
            f"{label:9} {statistics.median(idle[label]) * 1000:12.1f}"
            f" {percentile(ttfa[label], 50) * 1000:14.1f}"
            f" {percentile(ttfa[label], 90) * 1000:14.1f}"
            f" {percentile(direct[label], 50) * 1000:22.1f}"
            f" {_router_part(ttfa[label], direct[label]) * 1000:15.1f}"
        )
    print(
        "provider alone: the same text straight to espeak-ng's provider under the same load, "
        "the part of a probe's wait that no router setting changes; router part: loaded p50 "
        "less it"
    )
    ratio = percentile(ttfa["on loop"], 50) / percentile(ttfa["executor"], 50)
    print(f"loaded p50, on loop / executor: {ratio:.2f}")
    part = _router_part(ttfa["on loop"], direct["on loop"]) / _router_part(
        ttfa["executor"], direct["executor"]
    )
    print(f"router part, on loop / executor: {part:.2f}")


def _router_part(through_router: list[float], direct: list[float]) -> float:
    return percentile(through_router, 50) - percentile(direct, 50)


def main() -> None:
    """Only these two tables (`make bench` prints them with the others)."""
    import tempfile

    from bench.local_stack import start_bench_stack

    with tempfile.TemporaryDirectory(prefix="chorus-bench-") as logs:
        stack = start_bench_stack(Path(logs))
        try:
            leaving_to_idle(stack)
            ttfa_under_encoding_load(stack, Path(logs))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
