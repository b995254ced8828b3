"""OpenAI and ElevenLabs providers behind the real router, each in front of its vendor's fake.

espeak-ng stands behind them as the local fallback, as a cluster would configure it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from chorus_audio import decode_audio
from chorus_provider.testing.silence import inner_silences
from fakes.process import FakeVendor, start_fake
from support.processes import ServiceProcess, wait_until
from support.stack import Stack, entry, start_provider, start_router

pytestmark = pytest.mark.e2e

OPENAI_KEY = "sk-e2e-key-abcdef012345"
ELEVENLABS_KEY = "xi-e2e-key-abcdef012345"
WRONG_KEY = "sk-e2e-wrong-key-zyxw9876"
RACHEL = "21m00Tcm4TlvDq8ikWAM"
TEXT = "Good morning from the cloud."
# One attempt per provider and a breaker that stays closed: these tests count attempts.
ROUTING = {"retry": {"attempts": 1}, "breaker": {"fail_max": 100}}


@dataclass
class Cloud:
    stack: Stack
    openai: FakeVendor
    elevenlabs: FakeVendor

    def client(self) -> OpenAI:
        return OpenAI(base_url=self.stack.base_url, api_key="local", max_retries=0, timeout=30)

    def health(self, name: str) -> dict[str, Any]:
        body = httpx.get(f"{self.stack.router.url}/api/v1/audio/health", timeout=5).json()
        found: dict[str, Any] = next(p for p in body["providers"] if p["name"] == name)
        return found


def _start_providers(
    logs: Any, openai_fake: FakeVendor, el_fake: FakeVendor
) -> dict[str, ServiceProcess]:
    def openai_env(key: str, **more: str) -> dict[str, str]:
        return {
            "CHORUS_OPENAI_BASE_URL": f"{openai_fake.url}/v1",
            "CHORUS_OPENAI_API_KEY": key,
            "CHORUS_OPENAI_READ_TIMEOUT_S": "1.5",
            **more,
        }

    return {
        "openai": start_provider("openai", logs, env=openai_env(OPENAI_KEY)),
        "openai-badkey": start_provider("openai", logs, "openai-badkey", openai_env(WRONG_KEY)),
        "openai-revoked": start_provider(
            "openai",
            logs,
            "openai-revoked",
            openai_env(WRONG_KEY, CHORUS_OPENAI_VERIFY_KEY="false"),
        ),
        "elevenlabs": start_provider(
            "elevenlabs",
            logs,
            env={
                "CHORUS_ELEVENLABS_BASE_URL": el_fake.url,
                "CHORUS_ELEVENLABS_API_KEY": ELEVENLABS_KEY,
            },
        ),
        "espeak": start_provider("espeak", logs),
    }


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    logs = tmp_path_factory.mktemp("cloud")
    openai_fake = start_fake("openai", logs, OPENAI_KEY)
    el_fake = start_fake("elevenlabs", logs, ELEVENLABS_KEY)
    procs = _start_providers(logs, openai_fake, el_fake)
    registry = logs / "providers.yaml"
    Stack.write_registry_file(
        registry,
        [
            entry("openai", procs["openai"], ["tts-1", "gpt-4o-mini-tts"],
                  routing={**ROUTING, "priority": 30, "fallback": ["espeak"]}),
            entry("openai-badkey", procs["openai-badkey"], ["tts-bad"], routing=ROUTING),
            entry("openai-revoked", procs["openai-revoked"], ["tts-revoked"], routing=ROUTING),
            entry("elevenlabs", procs["elevenlabs"], ["eleven_multilingual_v2", "elevenlabs"],
                  routing=ROUTING),
            entry("espeak", procs["espeak"], ["espeak", "tts-1", "gpt-4o-mini-tts"],
                  voices={"coral": "en-us+f2"}, routing={**ROUTING, "priority": 10}),
        ],
    )  # fmt: skip
    stack = Stack(start_router(registry, logs), procs, registry)
    try:
        for name in ("openai", "openai-revoked", "elevenlabs", "espeak"):
            procs[name].wait_ready()
        stack.router.wait_ready("/healthz")
        ready = {name: name != "openai-badkey" for name in procs}
        stack.wait_for_states(ready)
        yield Cloud(stack, openai_fake, el_fake)
    finally:
        stack.stop()
        openai_fake.stop()
        el_fake.stop()


@pytest.fixture
def fresh(cloud: Cloud) -> Cloud:
    cloud.openai.reset()
    cloud.elevenlabs.reset()
    return cloud


def test_openai_provider_passes_instructions_speed_and_voice(fresh: Cloud) -> None:
    response = fresh.client().audio.speech.create(
        model="gpt-4o-mini-tts",
        voice="coral",
        input=TEXT,
        instructions="Speak like a cheerful radio host.",
        speed=1.25,
        response_format="wav",
    )
    audio = response.read()
    assert response.response.headers["x-chorus-provider"] == "openai"
    assert 0.5 < decode_audio(audio).duration_s < 4.0
    sent = fresh.openai.requests()[-1]["json"]
    assert sent["instructions"] == "Speak like a cheerful radio host."
    assert (sent["voice"], sent["speed"], sent["model"]) == ("coral", 1.25, "gpt-4o-mini-tts")
    assert sent["response_format"] == "pcm"


def test_elevenlabs_provider_speaks_with_the_accounts_voices(fresh: Cloud) -> None:
    catalog = httpx.get(
        f"{fresh.stack.router.url}/api/v1/audio/voices/catalog",
        params={"provider": "elevenlabs"},
        timeout=5,
    ).json()["voices"]
    assert {v["name"] for v in catalog} == {"Rachel", "George", "Sarah"}
    response = fresh.client().audio.speech.create(
        model="eleven_multilingual_v2",
        voice=RACHEL,
        input=TEXT,
        response_format="mp3",
        extra_body={"extra_params": {"voice_settings": {"stability": 0.4}}},
    )
    audio = response.read()
    assert response.response.headers["x-chorus-provider"] == "elevenlabs"
    assert 0.5 < decode_audio(audio).duration_s < 4.0
    sent = fresh.elevenlabs.requests()[-1]
    assert sent["path"] == f"/v1/text-to-speech/{RACHEL}/stream"
    assert sent["query"]["output_format"] == "pcm_24000"
    assert sent["json"]["model_id"] == "eleven_multilingual_v2"
    assert sent["json"]["voice_settings"] == {"stability": 0.4}


@pytest.mark.parametrize(
    ("failure", "read_as"),
    [
        ("429", "provider_busy"),
        ("500", "upstream_error"),
        ("503", "service_unavailable"),
        ("stall", "upstream_timeout"),
    ],
)
def test_an_upstream_failure_moves_the_request_to_the_next_provider(
    fresh: Cloud, failure: str, read_as: str
) -> None:
    if failure == "stall":
        fresh.openai.stall_next(4.0, count=3)
    else:
        fresh.openai.fail_next(int(failure), count=3, retry_after=1)
    response = fresh.client().audio.speech.create(
        model="tts-1", voice="coral", input=TEXT, response_format="pcm"
    )
    assert response.read()
    assert response.response.headers["x-chorus-provider"] == "espeak"
    assert len(fresh.openai.requests()) == 1, "the failing vendor was called again"
    # The vendor's status means what it means from any provider (a 503: not ready, wait).
    assert fresh.health("openai")["last_error"]["code"] == read_as
    # The router honours Retry-After by skipping the provider meanwhile; let that pass.
    assert wait_until(lambda: fresh.health("openai")["retry_after_until"] is None, 5)


def test_a_key_refused_at_start_up_shows_in_health(fresh: Cloud) -> None:
    def reason() -> str:
        return str(fresh.health("openai-badkey")["readiness_error"] or "")

    assert wait_until(lambda: "refused" in reason(), 15)
    assert fresh.health("openai-badkey")["ready"] is False
    assert "CHORUS_OPENAI_API_KEY" in reason()
    assert WRONG_KEY not in reason()
    with pytest.raises(openai.APIStatusError, match="refused") as caught:
        fresh.client().audio.speech.create(model="tts-bad", voice="coral", input=TEXT)
    assert caught.value.status_code == 503


def test_a_key_refused_mid_life_is_a_clear_error_not_a_retry_loop(fresh: Cloud) -> None:
    with pytest.raises(openai.APIStatusError, match="refused") as caught:
        fresh.client().audio.speech.create(model="tts-revoked", voice="coral", input=TEXT)
    assert caught.value.status_code >= 500
    assert WRONG_KEY not in caught.value.response.text
    assert len(fresh.openai.requests()) == 1, "a refused key must not be retried"
    failure = fresh.health("openai-revoked")["last_error"]
    assert failure["code"] == "provider_misconfigured"
    assert "refused" in failure["message"]
    for proc in (fresh.stack.providers["openai-revoked"], fresh.stack.router):
        assert WRONG_KEY not in proc.log_path.read_text()


SSML = (
    '<speak>Call the <sub alias="World Health Organization">WHO</sub> <break time="1s"/>'
    '<prosody pitch="high">today</prosody>, and wait <break time="4s"/> for them.</speak>'
)


def test_elevenlabs_gets_ssml_pauses_as_its_own_break_tags(fresh: Cloud) -> None:
    response = fresh.client().audio.speech.with_raw_response.create(
        model="eleven_multilingual_v2", voice=RACHEL, input=SSML, response_format="wav"
    )
    audio = decode_audio(response.content)
    sent = fresh.elevenlabs.requests()[-1]["json"]["text"]
    assert sent == (
        'Call the World Health Organization <break time="1s" /> today, and wait '
        '<break time="3s" /> <break time="1s" /> for them.'
    )
    assert response.headers["x-chorus-markup-approximated"] == "prosody-pitch"
    pcm = (audio.samples * 32767).astype("<i2").tobytes()
    # The vendor speaks its breaks between its own utterances, edge silences and all.
    silences = inner_silences(pcm, audio.sample_rate)
    assert 4.0 <= silences[0] < 4.5
    assert 1.0 <= silences[1] < 1.5


def test_openai_gets_the_words_of_ssml_with_aliases_applied(fresh: Cloud) -> None:
    fresh.client().audio.speech.create(
        model="tts-1", voice="coral", input=SSML, response_format="pcm"
    ).read()
    sent = fresh.openai.requests()[-1]["json"]["input"]
    assert sent == "Call the World Health Organization today, and wait for them."


def test_elevenlabs_gets_the_lexicons_as_a_pronunciation_dictionary(fresh: Cloud) -> None:
    entries = [
        {"grapheme": "Nguyen", "alias": "Win"},
        {"grapheme": "Kubernetes", "phoneme": "kuːbərˈnɛtiːz"},
        {"grapheme": "unused", "alias": "never"},
    ]
    made = httpx.post(
        f"{fresh.stack.router.url}/api/v1/audio/lexicons", json={"entries": entries}, timeout=10
    )
    assert made.status_code == 200, made.text
    texts = ["Ask Nguyen about Kubernetes.", "Kubernetes, says Nguyen."]
    for text in texts:
        fresh.client().audio.speech.create(
            model="eleven_multilingual_v2",
            voice=RACHEL,
            input=text,
            response_format="pcm",
            extra_body={"lexicons": [made.json()["id"]]},
        ).read()
    calls = fresh.elevenlabs.requests()
    added = [c["json"] for c in calls if c["path"].endswith("/add-from-rules")]
    # Made once for the entries both texts use; an IPA-only entry is no rule for a model
    # that skips phoneme-ruled words.
    assert [a["rules"] for a in added] == [
        [{"string_to_replace": "Nguyen", "type": "alias", "alias": "Win"}]
    ]
    speech = [c["json"] for c in calls if c["path"].endswith("/stream")]
    assert [s["text"] for s in speech] == texts
    assert all(len(s["pronunciation_dictionary_locators"]) == 1 for s in speech)
    spoken = httpx.get(f"{fresh.elevenlabs.url}/_fake/spoken", timeout=5).json()["spoken"]
    assert spoken == ["Ask Win about Kubernetes.", "Kubernetes, says Win."]
    preview = httpx.post(
        f"{fresh.stack.router.url}/api/v1/audio/text/normalize",
        json={"model": "elevenlabs", "input": texts[0], "lexicons": [made.json()["id"]]},
        timeout=10,
    ).json()
    assert preview["text"] == texts[0]
    assert [e["grapheme"] for e in preview["pronunciations"]["entries"]] == ["Kubernetes", "Nguyen"]


def test_gpt_4o_mini_tts_hears_ssml_prosody_in_its_instructions(fresh: Cloud) -> None:
    ssml = '<speak>Please <prosody rate="slow" volume="loud">listen closely</prosody>.</speak>'
    response = fresh.client().audio.speech.with_raw_response.create(
        model="gpt-4o-mini-tts",
        voice="coral",
        input=ssml,
        instructions="Sound warm.",
        response_format="pcm",
    )
    assert response.headers["x-chorus-provider"] == "openai"
    assert response.headers["x-chorus-markup-approximated"] == "prosody-rate, prosody-volume"
    sent = fresh.openai.requests()[-1]["json"]
    assert sent["input"] == "Please listen closely."
    assert sent["instructions"] == 'Sound warm. Say "listen closely" slowly and louder.'
    assert sent["speed"] == 1.0
