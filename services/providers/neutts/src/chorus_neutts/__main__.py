from __future__ import annotations

from chorus_neutts.engine import NeuTTSEngine
from chorus_neutts.settings import NeuTTSSettings
from chorus_provider import serve_provider


def main() -> None:
    serve_provider(NeuTTSSettings, NeuTTSEngine, "Chorus NeuTTS provider")


if __name__ == "__main__":
    main()
