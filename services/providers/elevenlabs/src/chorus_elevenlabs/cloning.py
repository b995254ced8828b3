"""Custom voices as ElevenLabs instant clones, made once per reference sample and reused.

A sample's clone is named `chorus-<first 16 hex digits of its SHA-256>` in the account, so
the account itself remembers which sample each clone came from: after a restart, or when
another replica made it, the clone is found by name in `GET /v1/voices` instead of being
made again. Clones are remembered least recently used first; when the account has no room
for another, the least recently used one is deleted to make room.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import quote
from weakref import WeakValueDictionary

import httpx
from pydantic import BaseModel, ValidationError

from chorus_contracts import UnknownVoice, UpstreamError
from chorus_elevenlabs.errors import ElevenLabsErrors, VoiceLimitReached
from chorus_elevenlabs.voices import list_voices
from chorus_provider.vendor_http import open_stream
from chorus_provider.voice_reference import reference_wav

log = logging.getLogger("chorus.elevenlabs")

CLONE_PREFIX = "chorus-"


@dataclass(frozen=True)
class Reference:
    """A reference sample as the vendor receives it, and the clone name it maps to."""

    wav: bytes
    name: str

    @classmethod
    def decode(cls, encoded: str) -> Reference:
        """The WAV inside a request's `voice_reference`; anything else is the client's error."""
        wav = reference_wav(encoded)
        return cls(wav, CLONE_PREFIX + hashlib.sha256(wav).hexdigest()[:16])


def is_clone(name: str) -> bool:
    """Whether an account voice is one of ours, kept out of the public catalog."""
    return name.startswith(CLONE_PREFIX)


class _Added(BaseModel):
    voice_id: str


class VoiceClones:
    """Clone name -> vendor voice id, bounded, least recently used first.

    One lock per clone name makes concurrent first uses of a sample wait for a single clone;
    the locks are held weakly, so they go away with the last request waiting on them.
    """

    def __init__(self, client: httpx.AsyncClient, errors: ElevenLabsErrors, capacity: int) -> None:
        self._client = client
        self._errors = errors
        self._capacity = capacity
        self._ids: OrderedDict[str, str] = OrderedDict()
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()

    async def voice_for(self, reference: Reference) -> str:
        """The vendor voice for this sample: remembered, found in the account, or cloned."""
        if (known := self._touch(reference.name)) is not None:
            return known
        lock = self._locks.setdefault(reference.name, asyncio.Lock())
        async with lock:
            if (known := self._touch(reference.name)) is not None:
                return known
            voice_id = await self._listed(reference.name) or await self._clone(reference)
            self._remember(reference.name, voice_id)
            return voice_id

    def forget(self, reference: Reference, voice_id: str) -> None:
        """Drop a clone the vendor no longer has, unless it was already replaced."""
        if self._ids.get(reference.name) == voice_id:
            del self._ids[reference.name]

    def _touch(self, name: str) -> str | None:
        voice_id = self._ids.get(name)
        if voice_id is not None:
            self._ids.move_to_end(name)
        return voice_id

    def _remember(self, name: str, voice_id: str) -> None:
        self._ids[name] = voice_id
        self._ids.move_to_end(name)
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)

    async def _listed(self, name: str) -> str | None:
        """The account's clone named `name`, made before a restart or by another replica.

        The account's other clones are remembered too, as least recently used, while there
        is room: they are the ones to delete when the account is full.
        """
        found = None
        for voice in await list_voices(self._client, self._errors):
            if not is_clone(voice.name):
                continue
            if voice.name == name:
                found = voice.id
            elif voice.name not in self._ids and len(self._ids) < self._capacity:
                self._ids[voice.name] = voice.id
                self._ids.move_to_end(voice.name, last=False)
        return found

    async def _clone(self, reference: Reference) -> str:
        try:
            return await self._add(reference)
        except VoiceLimitReached:
            if not await self._evict_least_recent():
                raise
        return await self._add(reference)

    async def _add(self, reference: Reference) -> str:
        request = self._client.build_request(
            "POST",
            "/v1/voices/add",
            data={"name": reference.name},
            files={"files": ("reference.wav", reference.wav, "audio/wav")},
        )
        async with open_stream(self._client, request, self._errors) as response:
            body = await response.aread()
        try:
            voice_id = _Added.model_validate_json(body).voice_id
        except ValidationError:
            raise UpstreamError("ElevenLabs answered a voice clone with no voice_id") from None
        log.info("cloned a reference sample as %s (%s)", reference.name, voice_id)
        return voice_id

    async def _evict_least_recent(self) -> bool:
        """Delete the least recently used clone to make room; False when there is none."""
        if not self._ids:
            return False
        name, voice_id = self._ids.popitem(last=False)
        request = self._client.build_request("DELETE", f"/v1/voices/{quote(voice_id, safe='')}")
        try:
            async with open_stream(self._client, request, self._errors):
                pass
        except UnknownVoice:
            pass  # already deleted elsewhere: the room is there all the same
        log.info("deleted clone %s (%s) to make room for another", name, voice_id)
        return True
