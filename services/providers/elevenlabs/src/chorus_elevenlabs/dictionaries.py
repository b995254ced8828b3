"""A request's lexicon entries as an ElevenLabs pronunciation dictionary, made once per version.

`POST /v1/pronunciation-dictionaries/add-from-rules` makes a dictionary; a TTS request names
it in `pronunciation_dictionary_locators` (id and version). As on every engine, an entry's
IPA is used where the model takes phonemes and its alias otherwise: phoneme rules go only to
the models that honour them (ElevenLabs' others skip a phoneme-ruled word entirely), so for
those an IPA-only entry makes no rule and the word is said as written. Dictionaries are
remembered per entries' version and rule kind, least recently used first.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any
from weakref import WeakValueDictionary

import httpx
from pydantic import BaseModel, ValidationError

from chorus_contracts import InvalidRequest, Pronunciations, UpstreamError
from chorus_elevenlabs.errors import ElevenLabsErrors
from chorus_provider.vendor_http import open_stream

log = logging.getLogger("chorus.elevenlabs")

Rule = dict[str, str]


class Locator(BaseModel):
    """What a TTS request names a dictionary by."""

    pronunciation_dictionary_id: str
    version_id: str


class _Added(BaseModel):
    id: str
    version_id: str


def rules_for(pronunciations: Pronunciations, phonemes: bool) -> list[Rule]:
    """ElevenLabs' rules for the entries: IPA phonemes for a model that takes `phonemes`,
    else the alias; an entry with neither for this model makes no rule."""
    rules: list[Rule] = []
    for entry in pronunciations.entries:
        if phonemes and entry.phoneme is not None:
            rules.append(
                {
                    "string_to_replace": entry.grapheme,
                    "type": "phoneme",
                    "phoneme": entry.phoneme,
                    "alphabet": "ipa",
                }
            )
        elif entry.alias is not None:
            rules.append(
                {"string_to_replace": entry.grapheme, "type": "alias", "alias": entry.alias}
            )
    return rules


_Key = tuple[str, bool]


class PronunciationDictionaries:
    """(entries' version, phoneme rules or not) -> the dictionary made for them, bounded.

    One lock per key makes concurrent first uses of the same entries wait for a single
    upload; the locks are held weakly, so they go with the last request waiting on them.
    """

    def __init__(self, client: httpx.AsyncClient, errors: ElevenLabsErrors, capacity: int) -> None:
        self._client = client
        self._errors = errors
        self._capacity = capacity
        self._made: OrderedDict[_Key, Locator] = OrderedDict()
        self._locks: WeakValueDictionary[_Key, asyncio.Lock] = WeakValueDictionary()

    async def locator_for(self, pronunciations: Pronunciations, phonemes: bool) -> Locator | None:
        """The dictionary for these entries, made now if not yet; None when no entry makes a
        rule for this model."""
        rules = rules_for(pronunciations, phonemes)
        if not rules:
            return None
        key = (pronunciations.version, phonemes)
        if (known := self._touch(key)) is not None:
            return known
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if (known := self._touch(key)) is not None:
                return known
            locator = await self._add(pronunciations.version, rules)
            self._made[key] = locator
            while len(self._made) > self._capacity:
                self._made.popitem(last=False)
            return locator

    def forget(self, locator: Locator) -> None:
        """Drop a dictionary the vendor no longer has, so the next use makes it again."""
        for key in [k for k, v in self._made.items() if v == locator]:
            del self._made[key]

    def _touch(self, key: _Key) -> Locator | None:
        locator = self._made.get(key)
        if locator is not None:
            self._made.move_to_end(key)
        return locator

    async def _add(self, version: str, rules: list[Rule]) -> Locator:
        body: dict[str, Any] = {"name": f"chorus-{version[:16]}", "rules": rules}
        request = self._client.build_request(
            "POST", "/v1/pronunciation-dictionaries/add-from-rules", json=body
        )
        try:
            async with open_stream(self._client, request, self._errors) as response:
                answer = await response.aread()
        except InvalidRequest as exc:
            # The entries passed our own checks; the vendor's rules are stricter (its IPA).
            raise InvalidRequest(
                f"ElevenLabs refused the lexicon entries as a pronunciation dictionary: "
                f"{exc.message}",
                param="lexicons",
            ) from None
        try:
            added = _Added.model_validate_json(answer)
        except ValidationError:
            raise UpstreamError("ElevenLabs answered a new dictionary with no id") from None
        log.info("made pronunciation dictionary %s with %d rules", added.id, len(rules))
        return Locator(pronunciation_dictionary_id=added.id, version_id=added.version_id)
