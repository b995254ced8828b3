from __future__ import annotations

from chorus_kokoro.engine import KokoroEngine
from chorus_kokoro.settings import KokoroSettings
from chorus_provider import serve_provider


def main() -> None:
    serve_provider(KokoroSettings, KokoroEngine, "Chorus Kokoro provider")


if __name__ == "__main__":
    main()
