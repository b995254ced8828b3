from __future__ import annotations

from chorus_elevenlabs.engine import ElevenLabsEngine
from chorus_elevenlabs.settings import ElevenLabsSettings
from chorus_provider import serve_provider


def main() -> None:
    serve_provider(ElevenLabsSettings, ElevenLabsEngine, "Chorus ElevenLabs provider")


if __name__ == "__main__":
    main()
