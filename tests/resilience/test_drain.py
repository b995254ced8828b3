"""A service told to stop mid-stream (SIGTERM, as the kubelet sends after preStop) finishes
the streams it serves, refuses new requests with 503 meanwhile, and then exits 0."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import openai
import pytest
from openai import OpenAI

from chorus_audio.decode import decode_audio
from support.processes import wait_until
from support.stack import Stack, entry, start_provider, start_router
from support.tone_stack import start_tone_provider

pytestmark = pytest.mark.timeout(90)

SENTENCES = 12
WORK_PER_SENTENCE_S = 0.25  # about 3 s of streaming
# Generous for a loaded machine: a drained process exits well within a second.
EXIT_BOUND_S = 20


def test_a_provider_sigtermed_mid_stream_finishes_it_and_refuses_new_work(
    tmp_path: Path,
) -> None:
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
            readyz = httpx.get(f"{provider.url}/readyz")
            assert readyz.status_code == 503
            assert readyz.json() == {
                "status": "not ready",
                "reason": "provider drainer is shutting down",
            }
            assert httpx.get(f"{provider.url}/healthz").status_code == 200

            # The stream in flight runs to its last byte (a cut stream raises here).
            for chunk in chunks:
                received += len(chunk)
        words = 5 * SENTENCES
        assert received == words * int(16_000 * 0.1) * 2, "every sentence's audio arrived"
        assert provider.wait_exit(EXIT_BOUND_S) == 0, "the drained provider exits by itself"
    finally:
        provider.stop()


# About 1,300 characters: espeak-ng speaks it in about 80 s of audio.
TEXT = " ".join(
    f"Paragraph {n} tells of the harbour, the ships that come and go, and the keeper of "
    "the lighthouse, who writes everything down."
    for n in range(1, 11)
)


def test_a_router_sigtermed_mid_stream_finishes_it_refuses_new_requests_and_exits_0(
    tmp_path: Path,
) -> None:
    espeak = start_provider("espeak", tmp_path)
    registry = tmp_path / "providers.yaml"
    Stack.write_registry_file(registry, [entry("espeak", espeak, ["espeak"])])
    stack = Stack(start_router(registry, tmp_path), {"espeak": espeak}, registry)
    router = stack.router
    try:
        espeak.wait_ready()
        router.wait_ready()
        stack.wait_for_states({"espeak": True})
        client = OpenAI(base_url=stack.base_url, api_key="local", max_retries=0, timeout=60)
        speech = {"model": "espeak", "voice": "en-us", "input": TEXT}
        # The same text made whole, as WAV: another format, so not the response cache's copy.
        whole = client.audio.speech.create(
            **speech, response_format="wav", extra_body={"stream": False}
        )
        expected_s = decode_audio(whole.read()).duration_s

        with client.audio.speech.with_streaming_response.create(
            **speech, response_format="mp3"
        ) as response:
            chunks = response.iter_bytes()
            streamed = bytearray(next(chunks))
            # Frozen, espeak-ng cannot finish the text while the drain is looked at: the
            # stream is surely in flight, however fast this machine is.
            espeak.signal(signal.SIGSTOP)
            try:
                router.signal(signal.SIGTERM)
                assert wait_until(
                    lambda: httpx.get(f"{router.url}/readyz").status_code == 503, timeout_s=10
                ), "readiness fails at once, so endpoints stop sending traffic"

                # A new request, on a fresh connection, gets OpenAI's error shape.
                with pytest.raises(openai.InternalServerError) as refused:
                    client.audio.speech.create(**speech, response_format="mp3")
                assert refused.value.status_code == 503
                assert int(refused.value.response.headers["retry-after"]) >= 1
                error = refused.value.response.json()["error"]
                assert (error["type"], error["code"]) == ("server_error", "service_unavailable")
                assert error["message"] == "router is shutting down"

                assert httpx.get(f"{router.url}/healthz").status_code == 200
                scrape = httpx.get(f"{router.url}/metrics")
                assert scrape.status_code == 200
                assert "tts_active_requests 1.0" in scrape.text, "the stream is in flight"
                assert router.alive(), "the router waits for its stream"
            finally:
                espeak.signal(signal.SIGCONT)
            for chunk in chunks:
                streamed += chunk

        # Every sentence arrived: as long as the same text made whole (MP3 frames aside).
        assert decode_audio(bytes(streamed)).duration_s == pytest.approx(expected_s, rel=0.02)
        assert router.wait_exit(EXIT_BOUND_S) == 0, "the drained router exits by itself"
    finally:
        stack.stop()
