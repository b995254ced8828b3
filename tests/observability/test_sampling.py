"""Spans nobody exports are not recorded, yet logs and the next hop still get their ids."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

from chorus_telemetry import (
    FASTAPI_TELEMETRY,
    instrument_app,
    instrument_client,
    setup_tracing,
    tracing,
)

_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"


def _provider(monkeypatch: pytest.MonkeyPatch, **env: str) -> TracerProvider:
    for name in (_ENDPOINT, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_SAMPLER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # The process-wide provider stays as it is for the other tests in this process.
    monkeypatch.setattr(tracing.trace, "set_tracer_provider", lambda provider: None)
    provider = setup_tracing("chorus-test")
    assert provider is not None
    return provider


def test_without_an_exporter_new_traces_have_ids_but_are_not_recorded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    span = _provider(monkeypatch).get_tracer("t").start_span("request")
    assert span.get_span_context().is_valid
    assert not span.is_recording()


def test_without_an_exporter_a_sampled_incoming_trace_is_still_recorded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parent = SpanContext(0x1234, 0x5678, is_remote=True, trace_flags=TraceFlags(1))
    context = set_span_in_context(NonRecordingSpan(parent))
    span = _provider(monkeypatch).get_tracer("t").start_span("request", context=context)
    assert span.get_span_context().trace_id == 0x1234
    assert span.is_recording()


@pytest.mark.parametrize(
    "env",
    [{_ENDPOINT: "http://127.0.0.1:1"}, {"OTEL_TRACES_SAMPLER": "always_on"}],
    ids=["exporting", "sampler-named"],
)
def test_an_exporter_or_a_named_sampler_records_every_trace(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    provider = _provider(monkeypatch, **env)
    try:
        assert provider.get_tracer("t").start_span("request").is_recording()
    finally:
        provider.shutdown()


@pytest.mark.parametrize(
    ("env", "client_span"),
    [({}, False), ({_ENDPOINT: "http://127.0.0.1:1"}, True)],
    ids=["not-recording", "exporting"],
)
async def test_a_call_carries_the_trace_on_in_a_client_span_only_where_recorded(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], client_span: bool
) -> None:
    provider = _provider(monkeypatch, **env)
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    instrument_client(client, provider)
    try:
        with provider.get_tracer("t").start_as_current_span("attempt") as attempt:
            await client.get("http://provider.invalid/v1/synthesize")
    finally:
        await client.aclose()
        provider.shutdown()
    _, trace_id, parent_id, _ = sent[0].headers["traceparent"].split("-")
    context = attempt.get_span_context()
    assert trace_id == format(context.trace_id, "032x")
    # The next hop's parent: the client span where one is recorded, else the attempt itself.
    assert (parent_id != format(context.span_id, "016x")) is client_span


async def test_unrecorded_a_request_continues_its_callers_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without an exporter the app keeps only the trace context: the caller's trace id, a
    span of the request's own (its id for the log lines and the next hop), not recorded."""
    provider = _provider(monkeypatch)
    app = FastAPI(telemetry=FASTAPI_TELEMETRY)

    @app.get("/seen")
    async def seen() -> dict[str, object]:
        span = trace.get_current_span()
        context = span.get_span_context()
        return {
            "trace_id": format(context.trace_id, "032x"),
            "span_id": format(context.span_id, "016x"),
            "recording": span.is_recording(),
        }

    instrument_app(app, provider)
    caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://router"
    ) as client:
        continued = (await client.get("/seen", headers={"traceparent": caller})).json()
        fresh = (await client.get("/seen")).json()
    assert continued["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert continued["span_id"] not in ("00f067aa0ba902b7", "0" * 16)
    assert not continued["recording"]
    assert fresh["trace_id"] not in (continued["trace_id"], "0" * 32)
    assert not fresh["recording"]
