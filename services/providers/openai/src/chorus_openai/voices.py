"""The voices a compatible upstream says it has, where it says so.

Self-hosted servers list them at `GET /audio/voices` or `GET /voices` (under the base URL),
as a list of names, `{"voices": [...]}` or `{"data": [...]}`, each a name or an object with
an `id`, `voice_id` or `name`. Nothing usable there: None, and the configured list stands.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger("chorus.openai.voices")

PATHS = ("/audio/voices", "/voices")
MAX_VOICES = 1000
_MAX_ID = 200


async def upstream_voices(client: httpx.AsyncClient) -> list[str] | None:
    """The upstream's voice ids, from the first path that lists any."""
    for path in PATHS:
        try:
            response = await client.get(path)
        except httpx.HTTPError as exc:
            log.info("no voice list at %s: %s", path, type(exc).__name__)
            continue
        if not response.is_success:
            continue
        try:
            names = voice_ids(response.json())
        except ValueError:
            continue
        if names:
            return names
    return None


def voice_ids(payload: Any) -> list[str]:
    """Voice ids in any of the shapes servers use; unknown shapes give none."""
    if isinstance(payload, dict):
        payload = payload.get("voices", payload.get("data"))
    if not isinstance(payload, list):
        return []
    ids: list[str] = []
    for item in payload[:MAX_VOICES]:
        name = _id(item)
        if name and len(name) <= _MAX_ID and name not in ids:
            ids.append(name)
    return ids


def _id(item: Any) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for key in ("id", "voice_id", "name"):
            if isinstance(item.get(key), str):
                return str(item[key])
    return None
