from __future__ import annotations

from chorus_espeak.engine import EspeakEngine
from chorus_espeak.settings import EspeakSettings
from chorus_provider import serve_provider


def main() -> None:
    serve_provider(EspeakSettings, EspeakEngine, "Chorus espeak-ng provider")


if __name__ == "__main__":
    main()
