"""Kokoro-82M (the int8 model from PyPI) behind the real router, through the OpenAI SDK."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import openai
import pytest
from openai import OpenAI

from chorus_audio import decode_audio
from support.stack import Stack, entry, start_provider, start_router

pytestmark = pytest.mark.e2e

TEXT = "Hello from Kokoro."
FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"]
# Registry aliases reach the provider as they are: blends included.
ALIASES = {"alloy": "jf_alpha", "duet": "jf_alpha(2)+jm_kumo(1)", "broken": "jf_alpha(2"}


@pytest.fixture(scope="module")
def kokoro_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("kokoro")
    kokoro = start_provider(
        "kokoro",
        logs,
        env={"CHORUS_KOKORO_DATA_DIR": str(logs / "data"), "CHORUS_KOKORO_THREADS": "2"},
    )
    registry = logs / "providers.yaml"
    Stack.write_registry_file(registry, [entry("kokoro", kokoro, ["kokoro"], voices=ALIASES)])
    stack = Stack(start_router(registry, logs), {"kokoro": kokoro}, registry)
    try:
        kokoro.wait_ready()
        stack.router.wait_ready("/healthz")
        stack.wait_for_states({"kokoro": True})
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def kokoro(kokoro_stack: Stack) -> OpenAI:
    return OpenAI(base_url=kokoro_stack.base_url, api_key="local", max_retries=0, timeout=60)


def pcm(client: OpenAI, voice: str, **extra: object) -> np.ndarray:
    audio = client.audio.speech.create(
        model="kokoro", voice=voice, input=TEXT, response_format="pcm", extra_body=extra or None
    ).read()
    return np.frombuffer(audio, dtype="<i2")


@pytest.mark.parametrize("fmt", FORMATS)
def test_kokoro_speaks_in_every_format(kokoro: OpenAI, fmt: str) -> None:
    response = kokoro.audio.speech.create(
        model="kokoro",
        voice="alloy",
        input=TEXT,
        response_format=fmt,  # type: ignore[arg-type]
    )
    audio = response.read()
    assert response.response.headers["x-chorus-provider"] == "kokoro"
    if fmt == "pcm":
        samples = np.frombuffer(audio, dtype="<i2") / 32768.0
        seconds = len(samples) / 24_000
    else:
        decoded = decode_audio(audio)
        samples, seconds = decoded.samples, decoded.duration_s
    # Three words at a normal pace: about a second, never silence.
    assert 0.6 < seconds < 3.5
    assert float(np.sqrt(np.mean(samples**2))) > 0.01, "audio is silent"


def test_a_blend_differs_from_both_parent_voices(kokoro: OpenAI) -> None:
    duet, alpha, kumo = pcm(kokoro, "duet"), pcm(kokoro, "jf_alpha"), pcm(kokoro, "jm_kumo")
    for parent in (alpha, kumo):
        assert not np.array_equal(duet, parent)
    assert len(duet) > 0.6 * 24_000


def test_a_malformed_blend_is_a_400_naming_the_voice(kokoro: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="blend") as caught:
        pcm(kokoro, "broken")
    assert caught.value.status_code == 400


def test_lang_code_selects_the_language(kokoro: OpenAI) -> None:
    assert len(pcm(kokoro, "jm_kumo", lang_code="b")) > 0.6 * 24_000
    with pytest.raises(openai.BadRequestError, match="de"):
        pcm(kokoro, "jm_kumo", lang_code="de")
