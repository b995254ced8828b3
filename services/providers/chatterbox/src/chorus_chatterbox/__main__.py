from __future__ import annotations

from chorus_chatterbox.engine import ChatterboxEngine
from chorus_chatterbox.settings import ChatterboxSettings
from chorus_provider import serve_provider


def main() -> None:
    serve_provider(ChatterboxSettings, ChatterboxEngine, "Chorus Chatterbox provider")


if __name__ == "__main__":
    main()
