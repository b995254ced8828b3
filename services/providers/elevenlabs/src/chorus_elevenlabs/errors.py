"""ElevenLabs' error answers on the vendor ladder of chorus_provider.

ElevenLabs answers `{"detail": {"status": "...", "message": "..."}}`, or FastAPI's
`{"detail": [{"loc": [...], "msg": "..."}]}` for a body it cannot validate; the ladder reads
both. Its `status` codes say more than the HTTP status: `quota_exceeded` comes as a 401 but
is no refused key, and a 400 `voice_limit_reached` means the account holds all the cloned
voices its plan allows.
"""

from __future__ import annotations

from chorus_contracts import ProviderMisconfigured, UnknownModel, UnknownVoice, UpstreamError
from chorus_provider.vendor_http import VendorErrors

# ElevenLabs body fields -> the request field a Chorus client set them with; any other is
# one of the vendor options a client passes in `extra_params`.
_PARAMS = {
    "text": "input",
    "voice_id": "voice",
    "language_code": "lang_code",
    "files": "voice_reference",
    # The request's lexicons, as the dictionary made from them and named in a TTS request.
    "rules": "lexicons",
    "pronunciation_dictionary_locators": "lexicons",
}


class VoiceLimitReached(UpstreamError):
    """The account has no room for another cloned voice; deleting one makes room."""


class DictionaryNotFound(UpstreamError):
    """A pronunciation dictionary a request named is gone; making it again fixes that."""


class ElevenLabsErrors(VendorErrors):
    """Builds the typed error for an upstream status and body, scrubbed of the API key."""

    settings_prefix = "CHORUS_ELEVENLABS"
    codes = {
        # Both spellings of "no such voice" that ElevenLabs uses.
        "voice_not_found": UnknownVoice,
        "voice_does_not_exist": UnknownVoice,
        "voice_limit_reached": VoiceLimitReached,
        "model_not_found": UnknownModel,
        "pronunciation_dictionary_not_found": DictionaryNotFound,
        # Out of credit: asking again cannot help, another provider can absorb it, and an
        # operator must top up, as with a refused key.
        "quota_exceeded": ProviderMisconfigured,
    }

    def __init__(self, api_key: str | None, name: str = "elevenlabs") -> None:
        super().__init__(name, api_key)

    def param_for(self, field: str) -> str:
        return _PARAMS.get(field, "extra_params")
