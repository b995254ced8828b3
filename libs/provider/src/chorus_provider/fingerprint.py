"""A provider's model identity (`Capabilities.model_id`): a hash over what shapes its audio.

Model files count by content, not by name or date, so replacing them under the same path
changes the identity; versions and settings that change the sound count as text. The
router keys its response cache on it, so audio from an older model is never served.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_BLOCK = 1 << 20


def model_fingerprint(*parts: Path | str) -> str:
    """`sha256:` and 32 hex digits over the parts in order. Blocking: hashes file contents."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            digest.update(b"file\0")
            with part.open("rb") as source:
                while block := source.read(_BLOCK):
                    digest.update(block)
        else:
            digest.update(b"text\0")
            digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return f"sha256:{digest.hexdigest()[:32]}"
