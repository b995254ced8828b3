"""Work stops when nobody waits: a client that leaves early frees every engine, every mode.

Real router, real espeak-ng / Piper / Kokoro processes, the OpenAI SDK as the client.
After the client leaves, the provider's in-flight and queued gauges return to 0, its
process stops computing, the router's active gauge returns to 0, and the next request is
served at once. The bounds are loose for loaded CI machines; `make bench` measures.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import openai
import pytest
from openai import OpenAI

from support.idleness import counter, gauge, wait_idle
from support.processes import wait_until
from support.stack import Stack

pytestmark = pytest.mark.e2e

# About 1,700 characters: minutes of CPU for Kokoro, many seconds for Piper.
TEXT = " ".join(
    f"Paragraph {n} goes on about the weather, the harbour and the ships that come and go, "
    "while the keeper of the lighthouse writes everything down in a very long letter."
    for n in range(1, 11)
)
VOICES = {"espeak": "en-us", "piper": "joe", "kokoro": "jf_alpha"}
IDLE_BOUND_S = 5.0


def _leave_mid_stream(stack: Stack, client: OpenAI, model: str, stream_format: str) -> None:
    with client.audio.speech.with_streaming_response.create(
        model=model,
        voice=VOICES[model],
        input=TEXT,
        response_format="mp3",
        stream_format=stream_format,  # type: ignore[arg-type]
    ) as response:
        chunks = response.iter_bytes()
        assert next(chunks)
        busy = gauge(stack.providers[model].url, "chorus_provider_in_flight_requests")
        # espeak-ng may well have finished the text by now; the others cannot have.
        assert busy == 1 or model == "espeak", "nothing left to cancel: the test proves nothing"


def _leave_before_the_file(_: Stack, client: OpenAI, model: str, __: str) -> None:
    # A whole file sends nothing until it is complete: leaving is leaving before byte one.
    # espeak-ng makes this text's file in about a second here, so it is left sooner.
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.2 if model == "espeak" else 0.5).audio.speech.create(
            model=model,
            voice=VOICES[model],
            input=TEXT,
            response_format="mp3",
            extra_body={"stream": False},
        )


MODES: dict[str, tuple[Callable[[Stack, OpenAI, str, str], None], str]] = {
    "audio": (_leave_mid_stream, "audio"),
    "sse": (_leave_mid_stream, "sse"),
    "whole_file": (_leave_before_the_file, "audio"),
}


def _router_active(stack: Stack) -> float:
    return gauge(stack.router.url, "tts_active_requests")


def _assert_all_freed(stack: Stack, client: OpenAI, model: str) -> float:
    provider = stack.providers[model]
    freed_s = wait_idle(provider.url, provider.pid, IDLE_BOUND_S)
    assert wait_until(lambda: _router_active(stack) == 0, timeout_s=IDLE_BOUND_S)
    started = time.monotonic()
    audio = client.audio.speech.create(
        model=model, voice=VOICES[model], input="Next one.", response_format="pcm"
    ).read()
    assert audio
    # Served at once: not queued behind the abandoned synthesis (which takes far longer).
    assert time.monotonic() - started < 15
    return freed_s


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("model", VOICES)
def test_leaving_frees_the_engine(
    client: OpenAI, local_stack: Stack, model: str, mode: str
) -> None:
    leave, stream_format = MODES[mode]
    gone_before = counter(local_stack.router.url, "tts_requests_total", status="client_gone")
    leave(local_stack, client, model, stream_format)
    freed_s = _assert_all_freed(local_stack, client, model)
    print(f"{model} {mode}: engine idle {freed_s:.2f}s after the client left")
    assert wait_until(
        lambda: (
            counter(local_stack.router.url, "tts_requests_total", status="client_gone")
            == gone_before + 1
        ),
        timeout_s=IDLE_BOUND_S,
    )


def test_leaving_a_stream_before_its_first_byte_frees_kokoro(
    client: OpenAI, local_stack: Stack
) -> None:
    # Kokoro's first piece takes long enough on CPU that a short timeout leaves before it.
    impatient = client.with_options(timeout=0.3)
    with (
        pytest.raises(openai.APITimeoutError),
        impatient.audio.speech.with_streaming_response.create(
            model="kokoro", voice="jf_alpha", input=TEXT, response_format="mp3"
        ) as response,
    ):
        next(response.iter_bytes())
    _assert_all_freed(local_stack, client, "kokoro")


def test_leaving_captioned_speech_before_its_first_byte_is_counted(
    client: OpenAI, local_stack: Stack
) -> None:
    gone_before = counter(local_stack.router.url, "tts_requests_total", status="client_gone")
    body = {"model": "kokoro", "voice": "jf_alpha", "input": TEXT, "stream": True}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{local_stack.router.url}/v1/audio/captioned_speech",
            json=body,
            timeout=httpx.Timeout(10, read=0.3),
        )
    _assert_all_freed(local_stack, client, "kokoro")
    assert wait_until(
        lambda: (
            counter(local_stack.router.url, "tts_requests_total", status="client_gone")
            == gone_before + 1
        ),
        timeout_s=IDLE_BOUND_S,
    )
