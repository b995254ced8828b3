"""A custom voice in a live speech session: named in `session.update` as in HTTP speech, its
sample goes to the cloning provider with every piece, its use is audited, and it stays its
owner's."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from support.cloning_provider import pitch_of
from support.live_client import Heard, connect, live_url, receive_until, send
from support.tones import dominant_frequencies
from support.voice_samples import sample
from support.voice_stack import VoiceStack, token


async def _speak(url: str, user: str, voice: dict[str, str]) -> Heard:
    heard = Heard()
    async with connect(live_url(url, token=token(user))) as ws:
        await receive_until(ws, heard, "session.created")
        await send(ws, "session.update", session={"model": "clone", "voice": voice})
        event = await receive_until(ws, heard, "session.updated", "error")
        if event["type"] == "session.updated":
            await send(ws, "input_text.append", text="Say it like me. Then say it again.")
            await send(ws, "input_text.flush")
            await receive_until(ws, heard, "speech.audio.done")
    return heard


def _audit(stack: VoiceStack, user: str) -> list[dict[str, Any]]:
    page = stack.http(f"{user}-admin").get(
        "/api/v1/admin/audit", params={"user": user, "action": "voice.use"}
    )
    assert page.status_code == 200, page.text
    data: list[dict[str, Any]] = page.json()["data"]
    return data


def test_a_custom_voice_speaks_a_live_session(
    sqlite_stack: VoiceStack, user: str, recording: bytes
) -> None:
    client = sqlite_stack.sdk(user)
    consent = client.audio.voice_consents.create(
        name="Live", language="en-US", recording=("c.wav", recording, "audio/wav")
    )
    upload = sample("wav", seconds=5.0, pitch=210.0)
    voice = client.audio.voices.create(
        name="Live", consent=consent.id, audio_sample=("a.wav", io.BytesIO(upload), "audio/wav")
    )
    before = len(sqlite_stack.received())
    url = sqlite_stack.routers[0].url

    heard = asyncio.run(_speak(url, user, {"id": voice.id}))

    assert heard.of_type("session.updated")[0]["session"]["voice"] == voice.id
    got = sqlite_stack.received()[before:]
    assert len(got) >= 2, "every piece went to the cloning provider"
    assert {r["sha256"] for r in got} == {got[0]["sha256"]}
    [done] = heard.of_type("speech.audio.done")
    assert done["provider"] == "cloner"
    assert dominant_frequencies(heard.audio()) == {pitch_of(got[0]["sha256"])}
    # Looked up (and audited) once, when the session chose the voice.
    assert [(e["resource_id"], e["outcome"]) for e in _audit(sqlite_stack, user)] == [
        (voice.id, "ok")
    ]

    stranger = asyncio.run(_speak(url, f"{user}-stranger", {"id": voice.id}))
    [error] = stranger.of_type("error")
    assert error["error"]["param"] == "voice"
    assert not stranger.of_type("speech.audio.delta")
