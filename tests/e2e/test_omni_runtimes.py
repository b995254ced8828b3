"""chorus-openai in front of the batching runtimes' contract fakes (vLLM-Omni, SGLang-Omni),
behind the real router, as the operator wires a `spec.runtime` provider: the OpenAI SDK asks
for a preset speaker, and a reference sample clones a voice on a Base checkpoint."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass

import openai
import pytest
from openai import OpenAI

from fakes.omni_runtime import Throughput
from fakes.process import FakeVendor, start_fake
from fakes.vllm_omni_fake import THROUGHPUT as VLLM_OMNI
from support.runtime_pod import CUSTOM_VOICE, front_settings
from support.stack import Stack, entry, routed_stack, start_provider
from support.voice_samples import sample

pytestmark = pytest.mark.e2e

BASE = "Qwen/Qwen3-TTS-12Hz-1.7B-Base"
HIGGS = "bosonai/higgs-audio-v3-tts-4b"


@dataclass
class Runtimes:
    stack: Stack
    fakes: dict[str, FakeVendor]

    def client(self) -> OpenAI:
        return OpenAI(base_url=self.stack.base_url, api_key="local", max_retries=0, timeout=60)

    def sent(self, provider: str) -> dict[str, object]:
        body: dict[str, object] = self.fakes[provider].requests()[-1]["json"]
        return body


@pytest.fixture(scope="module")
def runtimes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtimes]:
    logs = tmp_path_factory.mktemp("omni")
    fakes = {
        "qwen3-tts": start_fake("vllm_omni", logs, "", {"FAKE_OMNI_MODEL": CUSTOM_VOICE}),
        "qwen3-clone": start_fake("vllm_omni", logs, "", {"FAKE_OMNI_MODEL": BASE}),
        "higgs": start_fake("sglang_omni", logs, "", {"FAKE_OMNI_MODEL": HIGGS}),
    }
    settings = {
        "qwen3-tts": front_settings(
            fakes["qwen3-tts"], CUSTOM_VOICE, CHORUS_OPENAI_TASK_TYPE="CustomVoice"
        ),
        "qwen3-clone": front_settings(
            fakes["qwen3-clone"], BASE,
            CHORUS_OPENAI_TASK_TYPE="Base", CHORUS_OPENAI_VOICE_CLONING="true",
        ),
        "higgs": front_settings(fakes["higgs"], HIGGS, CHORUS_OPENAI_VOICE_CLONING="true"),
    }  # fmt: skip
    procs = {name: start_provider("openai", logs, name, env) for name, env in settings.items()}
    entries = [
        entry(name, proc, [name], voices={"alloy": "vivian"} if name == "qwen3-tts" else {},
              routing={"retry": {"attempts": 1}})
        for name, proc in procs.items()
    ]  # fmt: skip
    try:
        with routed_stack(procs, entries, logs) as stack:
            yield Runtimes(stack, fakes)
    finally:
        for fake in fakes.values():
            fake.stop()


def test_an_sdk_request_speaks_a_preset_speaker_streamed_from_the_runtime(
    runtimes: Runtimes,
) -> None:
    audio = runtimes.client().audio.speech.create(
        model="qwen3-tts", voice="alloy", input="Hello there. How are you?", response_format="pcm"
    )
    assert len(audio.read()) > 2 * 24_000 * 0.5
    sent = runtimes.sent("qwen3-tts")
    assert (sent["model"], sent["voice"], sent["task_type"]) == (
        CUSTOM_VOICE,
        "vivian",
        "CustomVoice",
    )
    assert (sent["stream"], sent["response_format"]) == (True, "pcm")


def test_the_runtimes_speakers_are_the_providers_voices(runtimes: Runtimes) -> None:
    audio = runtimes.client().audio.speech.create(
        model="qwen3-tts",
        voice="ryan",
        input="Speakers come from the engine.",
        response_format="wav",
    )
    assert audio.read()[:4] == b"RIFF"
    assert runtimes.sent("qwen3-tts")["voice"] == "ryan"


@pytest.mark.parametrize("provider", ["qwen3-clone", "higgs"])
def test_a_reference_sample_clones_through_ref_audio_and_ref_text(
    runtimes: Runtimes, provider: str
) -> None:
    reference = base64.b64encode(sample("wav", seconds=3.0, pitch=220.0)).decode()
    audio = runtimes.client().audio.speech.create(
        model=provider,
        voice="my-voice",
        input="Say it like them.",
        response_format="pcm",
        extra_body={"voice_reference": reference, "voice_reference_text": "What it says."},
    )
    assert len(audio.read()) > 2 * 24_000 * 0.3
    sent = runtimes.sent(provider)
    assert str(sent["ref_audio"]).startswith("data:audio/wav;base64,")
    assert sent["ref_text"] == "What it says."
    assert "voice" not in sent
    assert sent.get("task_type") == ("Base" if provider == "qwen3-clone" else None)


def test_the_runtimes_refusal_reaches_the_client_as_its_400(runtimes: Runtimes) -> None:
    # A Base checkpoint speaks only clones: without a reference the runtime refuses.
    with pytest.raises(openai.BadRequestError) as caught:
        runtimes.client().audio.speech.create(model="qwen3-clone", voice="alloy", input="Hi.")
    error = caught.value.body
    assert isinstance(error, dict)
    assert "Base task requires 'ref_audio'" in str(error["message"])


def test_the_fakes_batching_curve_matches_the_published_figure() -> None:
    aggregate = [VLLM_OMNI.per_stream(n) * n for n in (1, 2, 4, 8, 16)]
    assert aggregate[3] == pytest.approx(20.6, abs=0.1)  # vLLM-Omni, Qwen3-TTS at 8 streams
    # Batching: the total grows with concurrency, each stream slows down.
    assert aggregate == sorted(aggregate)
    per_stream = [VLLM_OMNI.per_stream(n) for n in (1, 2, 4, 8, 16)]
    assert per_stream == sorted(per_stream, reverse=True)
    assert isinstance(VLLM_OMNI, Throughput)
