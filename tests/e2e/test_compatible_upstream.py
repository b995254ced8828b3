"""chorus-openai in front of a self-hosted OpenAI-compatible server, behind the real router,
driven by the OpenAI SDK. The server (tests/fakes/compatible_fake.py) makes whole clips
unless asked to stream, knows one model, and answers errors FastAPI-style."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import openai
import pytest
from openai import OpenAI

from fakes.compatible_fake import SENTENCE_WORK_S
from fakes.process import FakeVendor, start_fake
from support.stack import Stack, entry, routed_stack, start_provider

pytestmark = pytest.mark.e2e

TWELVE = " ".join(f"Here is sentence number {n} of this text." for n in range(1, 13))
MODEL_MAP = json.dumps({"whole": "kokoro", "chunked": "kokoro", "streamed": "kokoro"})


@dataclass
class Upstream:
    stack: Stack
    fake: FakeVendor

    def client(self) -> OpenAI:
        return OpenAI(base_url=self.stack.base_url, api_key="local", max_retries=0, timeout=60)

    def first_audio_s(self, model: str) -> float:
        started = time.perf_counter()
        with self.client().audio.speech.with_streaming_response.create(
            model=model, voice="alloy", input=TWELVE, response_format="pcm"
        ) as response:
            assert response.headers["x-chorus-provider"] == model
            for chunk in response.iter_bytes():
                if chunk:
                    return time.perf_counter() - started
        raise AssertionError("no audio")


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    logs = tmp_path_factory.mktemp("compatible")
    fake = start_fake("compatible", logs, "unused")
    common = {
        "CHORUS_OPENAI_BASE_URL": f"{fake.url}/v1",
        "CHORUS_OPENAI_VERIFY_KEY": "false",
        "CHORUS_OPENAI_MODEL_MAP": MODEL_MAP,
    }
    settings = {
        "whole": common,
        "chunked": {**common, "CHORUS_OPENAI_CHUNKING": "sentence"},
        "streamed": {**common, "CHORUS_OPENAI_EXTRA_BODY": '{"stream": true}'},
    }
    procs = {name: start_provider("openai", logs, name, env) for name, env in settings.items()}
    entries = [
        entry(name, proc, [name, *(["tts-1-hd"] if name == "whole" else [])],
              voices={"alloy": "af_heart"}, routing={"retry": {"attempts": 1}})
        for name, proc in procs.items()
    ]  # fmt: skip
    try:
        with routed_stack(procs, entries, logs) as stack:
            yield Upstream(stack, fake)
    finally:
        fake.stop()


def test_the_upstreams_error_message_reaches_the_client(upstream: Upstream) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        upstream.client().audio.speech.create(model="tts-1-hd", voice="alloy", input="Hello.")
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["message"] == "whole: Unsupported model 'tts-1-hd'. Use 'kokoro'."


def test_model_map_and_the_upstreams_voices_serve_a_request(upstream: Upstream) -> None:
    audio = upstream.client().audio.speech.create(
        model="whole", voice="af_bella", input="Hello there.", response_format="pcm"
    )
    assert len(audio.read()) > 2 * 24_000 * 0.3
    sent = upstream.fake.requests()[-1]["json"]
    assert (sent["model"], sent["voice"], sent.get("stream", False)) == (
        "kokoro",
        "af_bella",
        False,
    )


def test_first_audio_comes_after_one_sentence_when_chunked_or_streamed(
    upstream: Upstream,
) -> None:
    whole = upstream.first_audio_s("whole")
    assert whole >= 12 * SENTENCE_WORK_S, "the server makes the whole clip first"
    upstream.fake.reset()
    streamed = upstream.first_audio_s("streamed")
    assert upstream.fake.requests()[-1]["json"]["stream"] is True
    chunked = upstream.first_audio_s("chunked")
    # About one sentence's work of twelve; 0.3 leaves room for a loaded machine.
    assert chunked <= 0.3 * whole, (chunked, whole)
    assert streamed <= 0.3 * whole, (streamed, whole)
