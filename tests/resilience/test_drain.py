"""A provider told to stop mid-stream (SIGTERM, as the kubelet sends after preStop) finishes
the stream it serves and refuses new work with 503 until it exits."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from support.tone_stack import start_tone_provider

pytestmark = pytest.mark.timeout(60)

SENTENCES = 12
WORK_PER_SENTENCE_S = 0.25  # about 3 s of streaming


def test_sigterm_mid_stream_finishes_the_stream_and_refuses_new_work(tmp_path: Path) -> None:
    provider = start_tone_provider(
        "drainer", tmp_path, env={"CHORUS_FAULTY_WORK_PER_SENTENCE_S": str(WORK_PER_SENTENCE_S)}
    )
    try:
        provider.wait_ready()
        text = " ".join(f"Sentence number {i} is here." for i in range(SENTENCES))
        body = {"text": text, "voice": "low", "model": "tone", "request_id": "drain-1"}
        with (
            httpx.Client(timeout=30) as http,
            http.stream("POST", f"{provider.url}/v1/synthesize", json=body) as stream,
        ):
            assert stream.status_code == 200
            chunks = stream.iter_raw()
            received = len(next(chunks))
            provider.signal(signal.SIGTERM)

            # New work, even on a fresh connection while the listener is still open: a 503
            # in the contract's shape, so the router moves on at once; readiness fails too.
            refused = httpx.post(
                f"{provider.url}/v1/synthesize", json={**body, "request_id": "drain-2"}
            )
            assert refused.status_code == 503
            assert refused.json()["error"]["retryable"] is True
            assert refused.headers["retry-after"]
            assert httpx.get(f"{provider.url}/readyz").status_code == 503
            assert httpx.get(f"{provider.url}/healthz").status_code == 200

            # The stream in flight runs to its last byte (a cut stream raises here).
            for chunk in chunks:
                received += len(chunk)
        words = 5 * SENTENCES
        assert received == words * int(16_000 * 0.1) * 2, "every sentence's audio arrived"
        deadline = time.monotonic() + 10
        while provider.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not provider.alive(), "the drained provider exits by itself"
    finally:
        provider.stop()
