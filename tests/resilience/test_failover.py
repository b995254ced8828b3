"""Providers fail in every way they can; the client keeps getting speech."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import httpx
import pytest

from support.idleness import counter, provider_idle
from support.processes import wait_until
from support.stack import Stack
from support.tone_stack import control, health, requests_seen, speak, tone_entries
from support.tones import dominant_frequencies

StackFactory = Callable[..., Stack]
A_HZ, B_HZ = 220, 440


def test_a_killed_primary_is_replaced_by_its_fallback(tone_stack: StackFactory) -> None:
    stack = tone_stack()
    assert speak(stack).headers["x-chorus-provider"] == "a"
    stack.providers["a"].signal(signal.SIGKILL)
    response = speak(stack)
    assert response.status_code == 200
    assert response.headers["x-chorus-provider"] == "b"
    assert dominant_frequencies(response.content) == {B_HZ}


def test_a_crashed_provider_shows_in_readyz_and_the_catalog(tone_stack: StackFactory) -> None:
    stack = tone_stack()
    catalog_url = f"{stack.router.url}/api/v1/audio/voices/catalog"

    def catalog_says_a_is_down() -> bool:
        voices = httpx.get(catalog_url, params={"provider": "a"}, timeout=5).json()["voices"]
        return bool(voices) and not any(v["provider_ready"] for v in voices)

    stack.providers["a"].signal(signal.SIGKILL)
    assert wait_until(catalog_says_a_is_down, timeout_s=10, interval_s=0.1)
    readyz = httpx.get(f"{stack.router.url}/readyz", timeout=5)
    assert readyz.status_code == 200, "b can still serve"
    assert readyz.json()["ready"] == ["b"]
    assert "unreachable" in readyz.json()["not_ready"]["a"]
    assert speak(stack).headers["x-chorus-provider"] == "b"


def test_a_frozen_primary_is_left_after_the_first_byte_timeout(tone_stack: StackFactory) -> None:
    stack = tone_stack()
    stack.providers["a"].signal(signal.SIGSTOP)
    try:
        response = speak(stack)
        assert response.status_code == 200
        assert response.headers["x-chorus-provider"] == "b"
        assert health(stack)["a"]["last_error"]["code"] == "upstream_timeout"
    finally:
        stack.providers["a"].signal(signal.SIGCONT)


def test_a_first_byte_timeout_cancels_the_slow_synthesis(tone_stack: StackFactory) -> None:
    stack = tone_stack(retry={"attempts": 1})
    a = stack.providers["a"]
    control(a, stall_s=30)
    response = speak(stack)
    assert response.headers["x-chorus-provider"] == "b"
    # The router closed its call to `a` after the 1.5 s first-byte timeout, so `a` stopped
    # instead of stalling on for 30 s for a request nobody would take from it.
    assert wait_until(lambda: provider_idle(a.url), timeout_s=2.0)
    assert counter(a.url, "chorus_provider_requests_total", outcome="cancelled") == 1


def test_the_breaker_opens_after_fail_max_failures_then_probes(tone_stack: StackFactory) -> None:
    stack = tone_stack()
    a, b = stack.providers["a"], stack.providers["b"]
    control(a, fail_status=502, fail_count=1000)
    # fail_max is 3 and each request may try `a` twice: 2 + 1 failures open the breaker.
    for _ in range(2):
        assert speak(stack).headers["x-chorus-provider"] == "b"
    assert requests_seen(a) == 3
    report = health(stack)["a"]
    assert report["breaker"] == "open"
    assert report["consecutive_failures"] == 3
    assert report["last_error"]["code"] == "upstream_error"
    for _ in range(3):
        assert speak(stack).headers["x-chorus-provider"] == "b"
    assert requests_seen(a) == 3, "an open breaker must not let requests through"
    assert requests_seen(b) == 5

    time.sleep(1.1)  # reset_timeout_s
    control(a)  # healed
    assert speak(stack).headers["x-chorus-provider"] == "a"
    assert requests_seen(a) == 4
    assert health(stack)["a"]["breaker"] == "closed"


def test_a_failed_probe_reopens_the_breaker(tone_stack: StackFactory) -> None:
    stack = tone_stack(retry={"attempts": 1}, breaker={"fail_max": 1, "reset_timeout_s": 1.0})
    a = stack.providers["a"]
    control(a, fail_status=502, fail_count=1000)
    assert speak(stack).headers["x-chorus-provider"] == "b"
    assert health(stack)["a"]["breaker"] == "open"
    time.sleep(1.1)
    assert speak(stack).headers["x-chorus-provider"] == "b"
    assert requests_seen(a) == 2, "exactly one probe after the reset timeout"
    assert health(stack)["a"]["breaker"] == "open"


def test_client_errors_come_back_at_once_and_leave_the_breaker_closed(
    tone_stack: StackFactory,
) -> None:
    stack = tone_stack(breaker={"fail_max": 1, "reset_timeout_s": 30})
    a, b = stack.providers["a"], stack.providers["b"]
    control(a, fail_status=400, fail_count=5)
    for _ in range(3):
        response = speak(stack)
        assert response.status_code == 400
        assert response.json()["error"]["message"] == "told to fail with 400"
    assert (requests_seen(a), requests_seen(b)) == (3, 0)
    assert health(stack)["a"]["breaker"] == "closed"
    assert health(stack)["a"]["consecutive_failures"] == 0


def test_busy_providers_are_skipped_until_their_retry_after(tone_stack: StackFactory) -> None:
    stack = tone_stack()
    a = stack.providers["a"]
    control(a, fail_status=429, fail_count=1, retry_after=30)
    assert speak(stack).headers["x-chorus-provider"] == "b"
    assert speak(stack).headers["x-chorus-provider"] == "b"
    assert requests_seen(a) == 1, "Retry-After must keep requests away from a busy provider"
    assert health(stack)["a"]["breaker"] == "closed"
    assert health(stack)["a"]["retry_after_until"] > time.time() + 20


def test_when_every_provider_fails_the_client_gets_503_with_retry_after(
    tone_stack: StackFactory,
) -> None:
    stack = tone_stack(retry={"attempts": 1}, breaker={"fail_max": 1, "reset_timeout_s": 20})
    for proc in stack.providers.values():
        control(proc, fail_status=502, fail_count=1000)
    response = speak(stack)
    assert response.status_code == 503
    assert "all providers for model tone are unavailable" in response.json()["error"]["message"]
    assert 15 <= int(response.headers["retry-after"]) <= 20
    # Both breakers are open now: the next request is refused without any network call.
    seen = sum(requests_seen(p) for p in stack.providers.values())
    assert speak(stack).status_code == 503
    assert sum(requests_seen(p) for p in stack.providers.values()) == seen
    # The router itself is fine: it stays in the Service and keeps answering with this 503.
    readyz = httpx.get(f"{stack.router.url}/readyz", timeout=5)
    assert readyz.status_code == 200
    assert readyz.json()["ready"] == []
    assert set(readyz.json()["not_ready"]) == {"a", "b"}


LONG = "One two three. Four five six. Seven eight nine. Ten eleven twelve."


def test_a_stream_broken_mid_way_is_truncated_not_spliced(tone_stack: StackFactory) -> None:
    stack = tone_stack()
    control(stack.providers["a"], break_after_chunks=1, break_count=1)
    body = {"model": "tone", "voice": "alloy", "input": LONG, "response_format": "pcm"}
    received = b""
    url = f"{stack.base_url}/audio/speech"
    with (  # noqa: PT012 - reading the body is what fails
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("POST", url, json=body, timeout=30) as r,
    ):
        assert r.headers["x-chorus-provider"] == "a"
        for chunk in r.iter_bytes():
            received += chunk
    assert dominant_frequencies(received) == {A_HZ}
    assert requests_seen(stack.providers["b"]) == 0


def test_sse_streams_end_with_an_error_event(tone_stack: StackFactory) -> None:
    stack = tone_stack()
    control(stack.providers["a"], break_after_chunks=1, break_count=1)
    response = speak(stack, LONG, stream_format="sse")
    events = [line for line in response.text.splitlines() if line.startswith("data: ")]
    assert '"speech.audio.delta"' in events[0]
    assert '"type": "error"' in events[-1]
    assert "speech.audio.done" not in response.text


def test_a_spoken_notice_ends_a_broken_stream_when_asked(tone_stack: StackFactory) -> None:
    stack = tone_stack()
    control(stack.providers["a"], break_after_chunks=1, break_count=1)
    response = speak(stack, LONG, stream_errors_as_audio=True)
    assert response.status_code == 200
    # First sentence (3 words) + the notice (9 words), 0.1 s per word, all in a's voice.
    assert len(response.content) / 48_000 > 1.0
    assert dominant_frequencies(response.content) == {A_HZ}
    assert requests_seen(stack.providers["b"]) == 0


def test_a_whole_file_broken_mid_way_is_made_again_elsewhere(tone_stack: StackFactory) -> None:
    stack = tone_stack()
    control(stack.providers["a"], break_after_chunks=1, break_count=1)
    response = speak(stack, LONG, stream=False)
    assert response.status_code == 200
    assert response.headers["x-chorus-provider"] == "b"
    assert dominant_frequencies(response.content) == {B_HZ}
    assert abs(len(response.content) / 48_000 - 1.2) < 0.1


def test_registry_edits_apply_live_and_breakers_survive_them(tone_stack: StackFactory) -> None:
    stack = tone_stack(retry={"attempts": 1}, breaker={"fail_max": 1, "reset_timeout_s": 60})
    a, b = stack.providers["a"], stack.providers["b"]
    control(a, fail_status=502, fail_count=1)
    assert speak(stack).headers["x-chorus-provider"] == "b"
    assert health(stack)["a"]["breaker"] == "open"

    entries = tone_entries(
        a, b, retry={"attempts": 1}, breaker={"fail_max": 1, "reset_timeout_s": 60}
    )
    entries[1]["routing"]["priority"] = 50  # b becomes the primary
    entries[1]["voices"] = {"alloy": "low"}
    stack.write_registry(entries)

    def b_speaks_low() -> bool:
        response = speak(stack)
        return dominant_frequencies(response.content) == {A_HZ}

    assert wait_until(b_speaks_low, timeout_s=10, interval_s=0.1), "the edit never took effect"
    assert health(stack)["a"]["breaker"] == "open", "a reload must not reset breakers"

    stack.write_registry([entries[1]])
    assert wait_until(lambda: "a" not in health(stack), timeout_s=10, interval_s=0.1)
    assert speak(stack).status_code == 200


def test_text_goes_only_to_providers_whose_limit_it_fits(tone_stack: StackFactory) -> None:
    stack = tone_stack(
        provider_env={
            "a": {"CHORUS_FAULTY_MAX_TEXT_LENGTH": "20"},
            "b": {"CHORUS_FAULTY_MAX_TEXT_LENGTH": "60"},
        }
    )
    assert speak(stack, "One two three.").headers["x-chorus-provider"] == "a"
    longer = "One two three four five six seven eight."
    assert speak(stack, longer).headers["x-chorus-provider"] == "b"
    assert requests_seen(stack.providers["a"]) == 1
    response = speak(stack, "word " * 20)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "input"
    assert "at most 60" in response.json()["error"]["message"]
