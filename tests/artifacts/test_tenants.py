"""Stored audio between tenants: two routers on one database and one file store, JWT users.

Custom voices are cached per tenant, never across; links belong to their owner, or to
whoever holds a signed URL until it expires; each owner has a byte quota.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import openai
import pytest

from support.voice_samples import sample
from support.voice_stack import VoiceStack, start_voice_stack

pytestmark = pytest.mark.e2e

SIGNING_KEY = "chorus-link-signing-key-for-tests-0123456789"
QUOTA = 1024 * 1024


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoiceStack]:
    stack = start_voice_stack(
        tmp_path_factory.mktemp("tenants"),
        None,
        cloner_env={"CHORUS_CLONING_MODEL_ID": "clone-1"},
        extra_router_env={
            "CHORUS_ROUTER_ARTIFACTS__LINKS__SIGNED": "true",
            "CHORUS_ROUTER_ARTIFACTS__LINKS__SIGNING_KEY": SIGNING_KEY,
            "CHORUS_ROUTER_ARTIFACTS__LINKS__MAX_BYTES_PER_USER": str(QUOTA),
        },
    )
    yield stack
    stack.stop()


def _voice(stack: VoiceStack, user: str, recording: bytes) -> str:
    client = stack.sdk(user)
    consent = client.audio.voice_consents.create(
        name="consent", language="en-US", recording=("c.wav", recording, "audio/wav")
    )
    voice = client.audio.voices.create(
        name="Me", consent=consent.id, audio_sample=("me.wav", io.BytesIO(recording), "audio/wav")
    )
    return voice.id


def test_the_same_custom_voice_sample_is_cached_per_tenant(stack: VoiceStack) -> None:
    recording = sample("wav", seconds=5.0, pitch=180.0)
    voices = {user: _voice(stack, user, recording) for user in ("alice", "bob")}
    text = "Both tenants say the very same words."
    outcomes: list[tuple[str, str]] = []
    audio: dict[str, bytes] = {}
    for user, router in (("alice", 0), ("alice", 1), ("bob", 0), ("bob", 1)):
        before = len(stack.received())
        response = stack.sdk(user, router=router).audio.speech.with_raw_response.create(
            model="clone",
            voice={"id": voices[user]},
            input=text,
            response_format="wav",
            extra_body={"stream": False},
        )
        made = len(stack.received()) - before
        outcomes.append((response.headers["x-chorus-cache"], "made" if made else "stored"))
        audio.setdefault(user, response.content)
        assert response.content == audio[user]
    # Each tenant's first request is synthesized; its repeat, through the other replica,
    # comes from the shared store. Bob never gets Alice's file, though the samples match.
    assert outcomes == [("miss", "made"), ("hit", "stored"), ("miss", "made"), ("hit", "stored")]


def test_links_are_their_owners_or_a_signed_urls(stack: VoiceStack) -> None:
    alice, bob = stack.http("alice"), stack.http("bob")
    body = {
        "model": "tone",
        "voice": "alloy",
        "input": "A link for Alice.",
        "response_format": "mp3",
    }
    made = alice.post("/v1/audio/speech", json={**body, "return_download_link": True})
    signed = made.headers["x-download-path"]
    path, _, query = signed.partition("?")
    assert "expires=" in query
    assert "signature=" in query
    with httpx.Client(base_url=stack.routers[1].url, timeout=30) as browser:
        assert browser.get(signed).content == made.content  # no key: the signature suffices
        assert browser.get(path).status_code == 401
        assert browser.get(signed[:-4] + "0000").status_code == 404
        assert browser.delete(signed).status_code == 401
    assert alice.get(path).content == made.content
    assert bob.get(path).status_code == 404
    assert bob.delete(path).status_code == 404
    assert alice.delete(path).status_code == 204
    with httpx.Client(base_url=stack.routers[0].url, timeout=30) as browser:
        assert browser.get(signed).status_code == 404


def test_stored_bytes_are_bounded_per_user(stack: VoiceStack) -> None:
    carol, dave = stack.sdk("carol"), stack.sdk("dave")
    words = " ".join(["word"] * 300)  # about 30 s of pcm: more than the 1 MiB quota
    first = carol.audio.speech.with_raw_response.create(
        model="tone",
        voice="alloy",
        input=words,
        response_format="pcm",
        extra_body={"return_download_link": True},
    )
    assert len(first.content) > QUOTA
    with pytest.raises(openai.RateLimitError) as refused:
        carol.audio.speech.create(
            model="tone", voice="alloy", input="More.", extra_body={"return_download_link": True}
        )
    assert refused.value.code == "storage_quota_exceeded"
    carol.audio.speech.create(model="tone", voice="alloy", input="Without a link is fine.")
    dave.audio.speech.create(
        model="tone", voice="alloy", input="Others too.", extra_body={"return_download_link": True}
    )
    path = first.headers["x-download-path"].partition("?")[0]
    assert stack.http("carol").delete(path).status_code == 204
    carol.audio.speech.create(
        model="tone", voice="alloy", input="Room again.", extra_body={"return_download_link": True}
    )
