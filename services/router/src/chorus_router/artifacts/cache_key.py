"""The identity of a response: two requests with the same key get the same bytes.

It names everything that changes the audio: the provider that makes it and the identity
of its model files (from its capabilities, so new files never meet old entries), the
requested model, the provider's own voice (and, for a custom voice, its sample's hash and
its owner, so tenants never share), the text exactly as the provider receives it (after
normalization) with its compiled SSML segments, speed, language, instructions, extra
parameters, and the output format.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

_VERSION = 1  # bump when the encoding of the audio changes for the same inputs


@dataclass(frozen=True)
class ResponseIdentity:
    provider: str
    model_id: str
    # The requested model: a provider serving several may pick its vendor model by it.
    model: str
    voice: str
    text: str
    speed: float
    response_format: str
    language: str | None = None
    instructions: str | None = None
    extra: dict[str, Any] | None = None
    # A custom or inline voice: its sample's hash, what the sample says (some models clone
    # from both), and the tenant it belongs to.
    voice_sample_sha256: str | None = None
    voice_sample_text: str | None = None
    tenant: str | None = None
    # SSML input: the segments as the provider receives them (pauses, rates, phonemes).
    markup: str | None = None


def cache_key(identity: ResponseIdentity) -> str:
    """A SHA-256 over a canonical JSON of the identity (hex, 64 characters)."""
    fields = {**identity.__dict__, "extra": identity.extra or {}, "v": _VERSION}
    if identity.markup is None:
        del fields["markup"]  # plain text keeps the keys it had before markup existed
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
