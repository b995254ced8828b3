"""OpenTelemetry tracing, configured by the standard OTEL_* environment variables.

Spans are always made, so every log line carries a trace id and an incoming `traceparent`
is continued; they are recorded and exported only when an OTLP endpoint is set
(OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), over OTLP/HTTP or
OTLP/gRPC as OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL says (`http/protobuf`, the default, or
`grpc`), through a batch processor on a thread of its own, so a collector that is down never
slows a request.
OTEL_SDK_DISABLED=true turns tracing off entirely. W3C trace context crosses every hop
through the FastAPI and httpx instrumentations where spans are recorded, and where they are
not through `TraceContext` and a request hook.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import httpx
from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, Sampler

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.telemetry import TelemetryConfig

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_PROTOCOL_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
_EXCLUDED_URLS = "healthz,readyz,metrics"


# For every service's `FastAPI(telemetry=...)`: FastAPI's own telemetry (0.142 and later)
# stays off, since `instrument_app` sets tracing up; with both, a request would be traced
# twice, and FastAPI's own would record a span the instrumentation left out.
FASTAPI_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def exporting_enabled() -> bool:
    return any(os.environ.get(v) for v in _ENDPOINT_VARIABLES)


def setup_tracing(default_service_name: str) -> TracerProvider | None:
    """Install the process's tracer provider; None when OTEL_SDK_DISABLED=true.

    OTEL_SERVICE_NAME wins over the default name; the sampler comes from OTEL_TRACES_SAMPLER.
    """
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    name = os.environ.get("OTEL_SERVICE_NAME") or default_service_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}), sampler=_sampler())
    if exporting_enabled():
        provider.add_span_processor(BatchSpanProcessor(_exporter()))
    trace.set_tracer_provider(provider)
    return provider


def _sampler() -> Sampler | None:
    """OTEL_TRACES_SAMPLER's sampler (None) when spans go somewhere or one is named.

    Otherwise new traces are not recorded: their spans still have ids, for the log lines and
    the `traceparent` sent on, but recording attributes and events nobody exports cost the
    router ~0.4 ms of CPU per short request. A sampled incoming trace is still recorded.
    """
    if _records_new_traces():
        return None
    return ParentBased(ALWAYS_OFF)


def _records_new_traces() -> bool:
    """Spans go somewhere, or a sampler is named: new traces are recorded."""
    return exporting_enabled() or bool(os.environ.get("OTEL_TRACES_SAMPLER"))


class UnsupportedProtocol(SystemExit):
    """OTEL_EXPORTER_OTLP_PROTOCOL names one this SDK cannot export (http/json): start-up stops."""


def _exporter() -> SpanExporter:
    """The OTLP exporter for the configured protocol; an unknown one stops start-up."""
    name = next((v for v in _PROTOCOL_VARIABLES if os.environ.get(v)), None)
    protocol = os.environ[name] if name else "http/protobuf"
    if protocol == "grpc":
        return GrpcSpanExporter(timeout=5)
    if protocol == "http/protobuf":
        return HttpSpanExporter(timeout=5)
    raise SystemExit(
        f"{name}={protocol!r}: the OTLP protocols supported are grpc and http/protobuf"
    )


def instrument_app(app: FastAPI, provider: TracerProvider | None) -> None:
    """A server span per request. Call it once the app's other middleware is added: its span
    is then current in theirs too.

    Where spans are recorded, OpenTelemetry's FastAPI instrumentation makes it (health and
    metrics scrapes left out). Where they are not, `TraceContext` keeps only the trace context,
    without the instrumentation's per-request work for a span nobody sees.
    """
    if provider is None:
        return
    # Both imported here: they import Starlette or FastAPI, which the web services have and
    # the operator (tracing its Kubernetes calls only) does not.
    if not _records_new_traces():
        from chorus_telemetry.trace_context import TraceContext

        app.add_middleware(TraceContext, tracer=provider.get_tracer(__name__))
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # Per-chunk ASGI send/receive spans would drown a streamed response's trace.
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=_EXCLUDED_URLS,
        exclude_spans=["receive", "send"],
    )


def instrument_client(client: httpx.AsyncClient, provider: TracerProvider | None) -> None:
    """Every call carries the trace context to the next service; in a client span where
    spans are recorded. Where they are not, the instrumentation's span is dropped unseen and
    cost the router about 0.2 ms on the way to each provider: a request hook writes the
    context instead."""
    if provider is None:
        return
    if _records_new_traces():
        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)
    else:
        client.event_hooks = {**client.event_hooks, "request": [_send_context]}


async def _send_context(request: httpx.Request) -> None:
    propagate.inject(request.headers)


def shutdown_tracing(provider: TracerProvider | None) -> None:
    """Flush what is queued, giving up quickly when the collector is unreachable."""
    if provider is not None:
        provider.force_flush(timeout_millis=2000)
        provider.shutdown()
