"""/metrics moves by the right amounts with the right labels; logs are JSON lines that lead
to the trace and say nothing secret."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from chorus_contracts import FIRST_AUDIO_METRIC, timing_ms
from support.processes import ServiceProcess
from support.stack import Stack
from support.tone_stack import control, speak

StackFactory = Callable[..., Stack]


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _samples(stack: Stack) -> Samples:
    text = httpx.get(f"{stack.router.url}/metrics", timeout=5).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_counters_and_histograms_move_with_requests(tone_stack: StackFactory) -> None:
    stack = tone_stack(retry={"attempts": 1})
    before = _samples(stack)
    assert speak(stack).status_code == 200
    assert speak(stack, model="no-such-model").status_code == 404
    control(stack.providers["a"], fail_status=502, fail_count=1)
    assert speak(stack).headers["x-chorus-provider"] == "b"
    after = _samples(stack)

    ok = {"model": "tone", "format": "pcm", "status": "200"}
    assert _delta(before, after, "tts_requests_total", provider="a", **ok) == 1
    assert _delta(before, after, "tts_requests_total", provider="b", **ok) == 1
    assert (
        _delta(
            before,
            after,
            "tts_requests_total",
            model="unknown",
            provider="none",
            format="pcm",
            status="404",
        )
        == 1
    )
    assert (
        _delta(
            before,
            after,
            "tts_fallback_attempts_total",
            **{"from": "a", "to": "b", "reason": "upstream_error"},
        )
        == 1
    )
    assert (
        _delta(
            before, after, "tts_provider_errors_total", provider="a", error_type="upstream_error"
        )
        == 1
    )
    assert _delta(before, after, "tts_time_to_first_byte_seconds_count", provider="a") == 1
    assert _delta(before, after, "tts_time_to_first_byte_seconds_count", provider="b") == 1
    assert _delta(before, after, "tts_text_length_characters_count") == 3
    # "One two three four." is 4 words at 0.1 s per word.
    assert _delta(before, after, "tts_audio_duration_seconds_sum", provider="b") == pytest.approx(
        0.4, abs=0.01
    )
    assert after[("tts_circuit_breaker_state", frozenset({("provider", "a")}))] == 0
    assert after[("tts_active_requests", frozenset())] == 0


def test_no_label_takes_user_text(tone_stack: StackFactory) -> None:
    stack = tone_stack()
    speak(stack, model="model-made-up-by-a-client")
    speak(stack, voice="voice-made-up-by-a-client")
    text = httpx.get(f"{stack.router.url}/metrics", timeout=5).text
    assert "made-up-by-a-client" not in text


def _spoken_then_stopped(stack: Stack, text: str, headers: dict[str, str]) -> httpx.Response:
    """One request spoken through `stack`, which is then stopped so every line is flushed."""
    body = {"model": "tone", "voice": "alloy", "input": text, "response_format": "pcm"}
    response = httpx.post(f"{stack.base_url}/audio/speech", json=body, timeout=30, headers=headers)
    assert response.status_code == 200
    stack.stop()
    return response


def test_logs_are_json_with_trace_ids_and_nothing_secret(tone_stack: StackFactory) -> None:
    stack = tone_stack()
    secret_text = "The launch code is swordfish-4471 and nobody may hear it."
    api_key = "sk-live-never-log-me-0123456789"
    response = _spoken_then_stopped(stack, secret_text, {"Authorization": f"Bearer {api_key}"})
    request_id = response.headers["x-request-id"]

    for proc in (stack.router, *stack.providers.values()):
        text = proc.log_path.read_text()
        assert "swordfish" not in text
        assert api_key not in text
    lines = [json.loads(line) for line in stack.router.log_path.read_text().splitlines() if line]
    # One line of the router's own for the request; not one more from httpx for its call
    # to the provider.
    assert [line for line in lines if line["logger"] == "httpx"] == []
    finished = [line for line in lines if line.get("request_id") == request_id]
    assert len(finished) == 1
    record = finished[0]
    assert record["service"] == "router"
    assert record["level"] == "info"
    assert record["provider"] == "a"
    assert record["outcome"] == "200"
    assert record["text_chars"] == len(secret_text)
    assert len(record["trace_id"]) == 32
    assert len(record["span_id"]) == 16


def test_a_callers_trace_is_the_requests_and_access_lines_come_as_responses_end(
    tone_stack: StackFactory,
) -> None:
    """Unrecorded (no exporter here), a caller's trace still gives the request's lines its id;
    the access line is written when the response has ended, with its duration."""
    stack = tone_stack()
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    traceparent = f"00-{trace_id}-00f067aa0ba902b7-00"
    response = _spoken_then_stopped(stack, "Follow me.", {"traceparent": traceparent})
    request_id = response.headers["x-request-id"]

    def lines(proc: ServiceProcess, logger: str, text: str) -> list[dict[str, Any]]:
        parsed = [json.loads(line) for line in proc.log_path.read_text().splitlines() if line]
        return [p for p in parsed if p["logger"] == logger and text in p["message"]]

    [finished] = lines(stack.router, "chorus.router.delivery", "finished")
    assert finished["request_id"] == request_id
    assert finished["trace_id"] == trace_id
    [access] = lines(stack.router, "chorus.access", 'POST /v1/audio/speech HTTP/1.1" 200')
    # Written when the response had ended: after its first audio, not as it started.
    first_audio_ms = timing_ms(response.headers["server-timing"], FIRST_AUDIO_METRIC)
    assert first_audio_ms is not None
    assert access["duration_ms"] >= first_audio_ms
    # uvicorn's own line, written as a response started, is gone.
    assert lines(stack.router, "uvicorn.access", "") == []
