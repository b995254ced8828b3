from __future__ import annotations

from chorus_provider import serve_provider
from chorus_vibevoice.engine import VibeVoiceEngine
from chorus_vibevoice.settings import VibeVoiceSettings


def main() -> None:
    serve_provider(VibeVoiceSettings, VibeVoiceEngine, "Chorus VibeVoice provider")


if __name__ == "__main__":
    main()
