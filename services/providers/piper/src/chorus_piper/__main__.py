from __future__ import annotations

from chorus_piper.engine import PiperEngine
from chorus_piper.settings import PiperSettings
from chorus_provider import serve_provider


def main() -> None:
    serve_provider(PiperSettings, PiperEngine, "Chorus Piper provider")


if __name__ == "__main__":
    main()
