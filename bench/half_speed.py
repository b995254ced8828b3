"""A Kokoro replica at half speed, the slow twin of `make bench BENCH=balance`.

It is the real engine, and each piece's worker thread then waits as long as the piece took,
so the replica holds its slots twice as long and makes audio at half its speed. A CPU quota
would be truer to a slow node, but this machine cannot set one for a process (no cgroup
delegation), and `taskset` would still share cores with the other replica.

Run with `python -m bench.half_speed` (settings as `chorus-kokoro` takes them).
"""

from __future__ import annotations

import time

from chorus_contracts import SynthesisRequest
from chorus_kokoro.engine import KokoroEngine
from chorus_kokoro.settings import KokoroSettings
from chorus_provider import CancelSignal, Rendering
from chorus_provider.serve import serve_provider


class HalfSpeedKokoro(KokoroEngine):
    def render(
        self, piece: str, request: SynthesisRequest, cancel: CancelSignal
    ) -> bytes | Rendering:
        started = time.perf_counter()
        made = super().render(piece, request, cancel)
        time.sleep(time.perf_counter() - started)
        return made


if __name__ == "__main__":
    serve_provider(KokoroSettings, HalfSpeedKokoro, "Kokoro at half speed")
