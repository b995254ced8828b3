"""A custom voice spoken through the ElevenLabs provider: cloned at the vendor once, then reused.

The router (JWT auth, SQLite) sends the stored, processed sample inline; the provider clones it
with `POST /v1/voices/add` in front of the ElevenLabs fake, which records what it received.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from openai import OpenAI

from fakes.process import FakeVendor, start_fake
from support.processes import ServiceProcess, wait_until
from support.stack import Stack, entry, start_provider, start_router
from support.voice_stack import router_env, token

KEY = "xi-voices-key-0123456789"
MODEL = "eleven_multilingual_v2"


@dataclass
class ElevenLabsStack:
    router: ServiceProcess
    provider: ServiceProcess
    fake: FakeVendor

    def sdk(self, user: str) -> OpenAI:
        return OpenAI(
            base_url=f"{self.router.url}/v1", api_key=token(user), max_retries=0, timeout=30
        )

    def stored_voice(self, user: str, voice_id: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token(user)}"}
        url = f"{self.router.url}/api/v1/audio/voices/{voice_id}"
        stored: dict[str, str] = httpx.get(url, headers=headers, timeout=5).json()
        return stored

    def vendor_voice_id(self, name: str) -> str:
        """The id the fake gave the clone called `name`, from its voice list."""
        listed = httpx.get(f"{self.fake.url}/v1/voices", headers={"xi-api-key": KEY}, timeout=5)
        voice_id: str = next(v["voice_id"] for v in listed.json()["voices"] if v["name"] == name)
        return voice_id


@pytest.fixture(scope="module")
def eleven(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ElevenLabsStack]:
    root = tmp_path_factory.mktemp("voices-elevenlabs")
    logs, data_dir, tmp_dir = root / "logs", root / "data", root / "tmp"
    for folder in (logs, data_dir, tmp_dir):
        folder.mkdir()
    fake = start_fake("elevenlabs", logs, KEY)
    provider = start_provider(
        "elevenlabs",
        logs,
        env={"CHORUS_ELEVENLABS_BASE_URL": fake.url, "CHORUS_ELEVENLABS_API_KEY": KEY},
    )
    registry = logs / "providers.yaml"
    Stack.write_registry_file(registry, [entry("elevenlabs", provider, [MODEL])])
    router = start_router(registry, logs, router_env(data_dir, tmp_dir, None))
    stack = ElevenLabsStack(router, provider, fake)
    try:
        provider.wait_ready()
        router.wait_ready("/healthz")
        assert wait_until(lambda: _provider_ready(router), 30, 0.1), "provider never ready"
        yield stack
    finally:
        for proc in (router, provider):
            proc.stop()
        fake.stop()


def _provider_ready(router: ServiceProcess) -> bool:
    headers = {"Authorization": f"Bearer {token('admin')}"}
    body = httpx.get(f"{router.url}/api/v1/audio/providers", headers=headers, timeout=5).json()
    return [p["ready"] for p in body["providers"]] == [True]


def test_a_custom_voice_is_cloned_once_and_its_clone_speaks_each_time(
    eleven: ElevenLabsStack, user: str, recording: bytes
) -> None:
    client = eleven.sdk(user)
    consent = client.audio.voice_consents.create(
        name="Ada's consent", language="en-US", recording=("consent.wav", recording, "audio/wav")
    )
    voice = client.audio.voices.create(
        name="Ada", consent=consent.id, audio_sample=("ada.wav", recording, "audio/wav")
    )

    for text in ("Good morning.", "Good evening."):
        response = client.audio.speech.create(
            model=MODEL, voice={"id": voice.id}, input=text, response_format="pcm"
        )
        assert response.read()
        assert response.response.headers["x-chorus-provider"] == "elevenlabs"

    received = eleven.fake.requests()
    sha256 = eleven.stored_voice(user, voice.id)["sample_sha256"]
    [add] = [r for r in received if r["path"] == "/v1/voices/add"]
    assert [f["sha256"] for f in add["files"]] == [sha256]
    assert add["form"]["name"] == f"chorus-{sha256[:16]}"
    cloned = eleven.vendor_voice_id(add["form"]["name"])
    spoken = [r["path"] for r in received if r["path"].startswith("/v1/text-to-speech/")]
    assert spoken == [f"/v1/text-to-speech/{cloned}/stream"] * 2
    assert KEY not in eleven.provider.log_path.read_text()
