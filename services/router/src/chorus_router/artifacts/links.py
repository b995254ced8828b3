"""Download links: their path, lifetime, and (when links are signed) an HMAC that lets a
browser fetch one without an API key until it expires. A link names stored audio, the
captions (WebVTT, SRT) of a captioned speech response, or a long-form job's whole book (M4B)
and manifest (JSON)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from urllib.parse import urlencode

from chorus_audio import content_type
from chorus_contracts import InvalidRequest
from chorus_router.artifacts.settings import LinkSettings

FILES_PATH = "/api/v1/audio/files"
_NAME = re.compile(r"(file_[0-9a-f]{32})\.(mp3|opus|aac|flac|wav|pcm|vtt|srt|m4b|json)")
# Stored files other than the speech endpoint's audio formats.
OTHER_TYPES = {
    "vtt": "text/vtt; charset=utf-8",
    "srt": "application/x-subrip",
    "m4b": "audio/mp4",
    "json": "application/json",
}


def new_file_id() -> str:
    return f"file_{secrets.token_hex(16)}"


def media_type(fmt: str) -> str:
    """The Content-Type of a stored file in `fmt`: an audio format or one of `OTHER_TYPES`."""
    return OTHER_TYPES.get(fmt) or content_type(fmt)


def parse_name(name: str) -> tuple[str, str] | None:
    """`(id, format)` of a download name such as `file_ab12....mp3` or `file_ab12....vtt`;
    None for anything else (a traversal attempt, a foreign id), answered with 404."""
    match = _NAME.fullmatch(name)
    return None if match is None else (match.group(1), match.group(2))


class LinkPolicy:
    """Lifetimes within the configured bounds, and the signature when links are signed."""

    def __init__(self, settings: LinkSettings) -> None:
        self._settings = settings
        key = settings.signing_key
        self._key = key.get_secret_value().encode() if key is not None else None

    @property
    def signed(self) -> bool:
        return self._settings.signed and self._key is not None

    def lifetime_s(self, requested: int | None) -> int:
        if requested is None:
            return self._settings.default_ttl_s
        if requested > self._settings.max_ttl_s:
            raise InvalidRequest(
                f"download_expires_in is {requested}s; links last at most "
                f"{self._settings.max_ttl_s}s",
                param="download_expires_in",
            )
        return requested

    def path(self, name: str, expires_at: int) -> str:
        """What X-Download-Path says: the file's path, with its signature if links are signed."""
        path = f"{FILES_PATH}/{name}"
        if not self.signed:
            return path
        query = urlencode({"expires": expires_at, "signature": self._sign(name, expires_at)})
        return f"{path}?{query}"

    def verify(self, name: str, expires: int | None, signature: str) -> bool:
        """A signature made by this router (or a replica sharing its key), not yet expired."""
        if not self.signed or expires is None or expires <= time.time():
            return False
        return hmac.compare_digest(self._sign(name, expires), signature)

    def _sign(self, name: str, expires_at: int) -> str:
        assert self._key is not None
        message = f"{name}\n{expires_at}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
