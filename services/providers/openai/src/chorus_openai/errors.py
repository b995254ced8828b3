"""OpenAI's error answers (and compatible servers') on the vendor ladder of chorus_provider.

OpenAI says `{"error": {"message", "param", "code"}}`; self-hosted compatible servers mostly
say FastAPI's `detail`, which the ladder reads itself. A refused key's text is never
forwarded (OpenAI echoes part of the key in its 401 message).
"""

from __future__ import annotations

from typing import Any

from chorus_contracts import ProviderMisconfigured, UnknownModel
from chorus_provider.vendor_http import VendorDetail, VendorErrors


class OpenAIErrors(VendorErrors):
    """Builds the typed error for an upstream status and body, scrubbed of the API key."""

    settings_prefix = "CHORUS_OPENAI"
    codes = {
        "model_not_found": UnknownModel,
        # Out of credit: asking again cannot help, another provider can serve, and an
        # operator must top up, as with a refused key.
        "insufficient_quota": ProviderMisconfigured,
    }

    def __init__(self, api_key: str | None, name: str = "openai") -> None:
        super().__init__(name, api_key)

    def read(self, payload: Any) -> VendorDetail | None:
        error = payload.get("error") if isinstance(payload, dict) else None
        if not isinstance(error, dict) or not isinstance(error.get("message"), str):
            return super().read(payload)
        param, code = error.get("param"), error.get("code")
        return VendorDetail(
            error["message"],
            code if isinstance(code, str) else None,
            param if isinstance(param, str) else None,
        )
