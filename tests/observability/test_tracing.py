"""One speech request is one trace, from the router's span through each attempt into the
provider and its engine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from support.live_client import Heard, connect, live_url, receive_until, send
from support.otlp_receiver import OtlpGrpcReceiver, OtlpReceiver, ReceivedSpan
from support.processes import ServiceProcess, free_port, wait_until
from support.stack import Stack, start_router
from support.tone_stack import control, start_tone_provider, tone_entries

TRACE_ENV = {"OTEL_BSP_SCHEDULE_DELAY": "100"}


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[tuple[Stack, OtlpReceiver]]:
    with OtlpReceiver() as receiver:
        env = {**TRACE_ENV, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
        procs = {}
        for name in ("a", "b"):
            port = free_port()
            procs[name] = ServiceProcess(
                name,
                "support.faulty_provider",
                port,
                {
                    **env,
                    "CHORUS_FAULTY_NAME": name,
                    "CHORUS_FAULTY_PORT": str(port),
                    "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
                },
                tmp_path,
            ).start()
        registry = tmp_path / "providers.yaml"
        Stack.write_registry_file(
            registry, tone_entries(procs["a"], procs["b"], retry={"attempts": 1})
        )
        stack = Stack(start_router(registry, tmp_path, env), procs, registry)
        try:
            for proc in procs.values():
                proc.wait_ready()
            stack.router.wait_ready("/healthz")
            stack.wait_for_states({"a": True, "b": True})
            yield stack, receiver
        finally:
            stack.stop()


def _speak(stack: Stack) -> httpx.Response:
    body = {"model": "tone", "voice": "alloy", "input": "One two. Three.", "response_format": "pcm"}
    response = httpx.post(f"{stack.base_url}/audio/speech", json=body, timeout=30)
    assert response.status_code == 200
    return response


def _trace_of(receiver: OtlpReceiver, expected: set[str]) -> list[ReceivedSpan]:
    """Spans of the one trace that holds all `expected` span names, once they have all arrived."""

    def complete() -> bool:
        names = {s.name for s in receiver.snapshot()}
        return expected <= names

    assert wait_until(complete, timeout_s=15, interval_s=0.1), {s.name for s in receiver.snapshot()}
    spans = receiver.snapshot()
    root = next(s for s in spans if s.name == "tts.attempt")
    return [s for s in spans if s.trace_id == root.trace_id]


def _parent(spans: list[ReceivedSpan], child: ReceivedSpan) -> ReceivedSpan:
    return next(s for s in spans if s.span_id == child.parent_id)


def test_one_request_is_one_trace_across_router_provider_and_engine(
    traced: tuple[Stack, OtlpReceiver],
) -> None:
    stack, receiver = traced
    _speak(stack)
    # Server spans end last and may come in a later export batch: wait for all of them.
    spans = _trace_of(
        receiver,
        {
            "tts.attempt",
            "tts.synthesize",
            "tts.queue",
            "POST",
            "POST /v1/synthesize",
            "POST /v1/audio/speech",
        },
    )
    by_name = {s.name: s for s in spans}
    assert {s.service for s in spans} == {"chorus-router", "chorus-a"}

    router_span = next(s for s in spans if s.service == "chorus-router" and not s.parent_id)
    assert router_span.name == "POST /v1/audio/speech"
    attempt = by_name["tts.attempt"]
    assert _parent(spans, attempt) is router_span
    assert attempt.attributes["tts.provider"] == "a"
    assert attempt.attributes["tts.outcome"] == "ok"
    assert attempt.attributes["tts.attempt"] == 1

    synthesize = by_name["tts.synthesize"]
    provider_server = _parent(spans, synthesize)
    assert provider_server.service == "chorus-a"
    assert provider_server.name == "POST /v1/synthesize"
    # The provider's server span hangs under the router's HTTP client call in that attempt.
    client_call = _parent(spans, provider_server)
    assert client_call.service == "chorus-router"
    assert _parent(spans, client_call) is attempt
    assert _parent(spans, by_name["tts.queue"]) is synthesize
    assert synthesize.attributes["tts.text_length"] == len("One two. Three.")
    assert synthesize.attributes["tts.audio_seconds"] == pytest.approx(0.3, abs=0.01)
    assert synthesize.attributes["tts.first_chunk_s"] > 0


def test_a_fallback_shows_two_attempts_with_their_outcomes(
    traced: tuple[Stack, OtlpReceiver],
) -> None:
    stack, receiver = traced
    control(stack.providers["a"], fail_status=502, fail_count=1)
    assert _speak(stack).headers["x-chorus-provider"] == "b"

    def both_attempts() -> bool:
        return len([s for s in receiver.snapshot() if s.name == "tts.attempt"]) >= 2

    assert wait_until(both_attempts, timeout_s=15, interval_s=0.1)
    attempts = sorted(
        (s for s in receiver.snapshot() if s.name == "tts.attempt"),
        key=lambda s: s.attributes["tts.attempt"],
    )
    assert len({s.trace_id for s in attempts}) == 1
    assert [(s.attributes["tts.provider"], s.attributes["tts.outcome"]) for s in attempts] == [
        ("a", "upstream_error"),
        ("b", "ok"),
    ]
    assert attempts[0].parent_id == attempts[1].parent_id


def test_a_collector_that_is_down_never_blocks_requests(
    tone_stack: Callable[..., Stack],
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    stack = tone_stack(router_env={**TRACE_ENV, "OTEL_EXPORTER_OTLP_ENDPOINT": closed})
    for _ in range(5):
        assert _speak(stack).status_code == 200
    # Spans are still made (logs carry their ids); only their export fails, in the background.
    assert httpx.get(f"{stack.router.url}/readyz", timeout=5).status_code == 200


def test_spans_reach_a_collector_over_otlp_grpc(tmp_path: Path) -> None:
    """otel.protocol: grpc (port 4317) exports as well as OTLP/HTTP does."""
    with OtlpGrpcReceiver() as receiver:
        env = {
            **TRACE_ENV,
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        }
        provider = start_tone_provider("grpc-tone", tmp_path, env=env)
        try:
            provider.wait_ready()
            body = {"text": "One two.", "voice": "low", "model": "tone", "request_id": "grpc-1"}
            assert httpx.post(f"{provider.url}/v1/synthesize", json=body).status_code == 200
            assert wait_until(
                lambda: any(s.service == "chorus-grpc-tone" for s in receiver.snapshot()), 20
            ), "no span arrived over gRPC"
        finally:
            provider.stop()


def test_each_live_turn_is_a_span_under_the_session_with_its_attempts(
    traced: tuple[Stack, OtlpReceiver],
) -> None:
    stack, receiver = traced

    async def two_turns() -> None:
        heard = Heard()
        async with connect(live_url(stack.router.url)) as ws:
            await send(ws, "session.update", session={"model": "tone", "voice": "alloy"})
            for _ in range(2):
                # No piece is ready before the flush: first audio is timed from it.
                await send(ws, "input_text.append", text="One two three")
                await send(ws, "input_text.flush")
                await receive_until(ws, heard, "speech.audio.done")

    asyncio.run(two_turns())

    def turns_and_session() -> list[ReceivedSpan]:
        spans = receiver.snapshot()
        turns = [s for s in spans if s.name == "tts.live_turn"]
        ids = {s.span_id for s in spans}
        return turns if len(turns) == 2 and all(t.parent_id in ids for t in turns) else []

    assert wait_until(turns_and_session, timeout_s=15, interval_s=0.1)
    spans = receiver.snapshot()
    turns = turns_and_session()
    session = _parent(spans, turns[0])
    assert _parent(spans, turns[1]) is session
    assert session.service == "chorus-router"
    assert "/v1/audio/speech/live" in session.name
    assert not session.parent_id
    for turn in turns:
        attempts = [s for s in spans if s.name == "tts.attempt" and s.parent_id == turn.span_id]
        assert [a.attributes["tts.provider"] for a in attempts] == ["a"]
        assert turn.attributes["tts.provider"] == "a"
        assert turn.attributes["tts.characters"] == len("One two three")

    scrape = httpx.get(f"{stack.router.url}/metrics", timeout=5).text
    assert 'tts_live_first_audio_seconds_count{after="flush"} 2.0' in scrape
    assert 'tts_live_first_audio_seconds_count{after="first_text"} 2.0' in scrape
