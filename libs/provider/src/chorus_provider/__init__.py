"""Turn a TTS Engine into a Chorus provider service (contract v1)."""

from chorus_provider.admission import Admission
from chorus_provider.app import create_provider_app
from chorus_provider.cancel import Cancelled, CancelSignal
from chorus_provider.engine import Engine, Join, Rendering, SentenceEngine, Words
from chorus_provider.fingerprint import model_fingerprint
from chorus_provider.serve import serve_provider
from chorus_provider.settings import ProviderSettings
from chorus_text import split_sentences

__all__ = [
    "Admission",
    "CancelSignal",
    "Cancelled",
    "Engine",
    "Join",
    "ProviderSettings",
    "Rendering",
    "SentenceEngine",
    "Words",
    "create_provider_app",
    "model_fingerprint",
    "serve_provider",
    "split_sentences",
]
