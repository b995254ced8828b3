"""The text a provider receives for a request, and the pieces it will synthesize.

Normalization happens here, per provider, because it depends on the provider: cloud vendors
read "$5" well themselves (their capabilities say `normalizes_text`) and get the text as
written; local engines get it normalized in the language they will speak.
"""

from __future__ import annotations

from chorus_contracts import Capabilities, ProviderCannotServe, SpeechRequest
from chorus_text import normalize_text, speech_pieces


def spoken_text(request: SpeechRequest, capabilities: Capabilities | None, voice: str) -> str:
    """`request.input` as the provider with `capabilities` should get it for `voice`.

    A provider not yet heard from is assumed to need normalization, as local engines do.
    This is also the text a cached response is keyed by.
    """
    if capabilities is not None and capabilities.normalizes_text:
        return request.input
    return normalize_text(
        request.input, request.normalization_options, spoken_language(request, capabilities, voice)
    )


def spoken_language(
    request: SpeechRequest, capabilities: Capabilities | None, voice: str
) -> str | None:
    """The asked `lang_code`, else the voice's language where the provider speaks it."""
    if request.lang_code:
        return request.lang_code
    if capabilities is None:
        return None
    language = next((v.language for v in capabilities.voices if v.id == voice), None)
    return language if language in capabilities.languages else None


def checked_length(request: SpeechRequest, text: str, capabilities: Capabilities | None) -> str:
    """`text`, or a refusal naming both lengths when normalization took it past this
    provider's limit (another provider may take more)."""
    if capabilities is not None and len(text) > capabilities.max_text_length:
        raise ProviderCannotServe(
            f"input is {len(request.input)} characters, {len(text)} after normalization; "
            f"provider {capabilities.provider} takes at most {capabilities.max_text_length} "
            "(shorten the input, or send normalization_options.normalize=false)",
            param="input",
        )
    return text


def pieces_for(text: str, capabilities: Capabilities | None, language: str | None) -> list[str]:
    """The pieces the provider synthesizes one after another, as its capabilities say, for
    text in `language` (from `spoken_language`)."""
    return speech_pieces(
        text, capabilities.chunking if capabilities is not None else None, language
    )
