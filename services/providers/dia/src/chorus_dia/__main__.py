from __future__ import annotations

from chorus_dia.engine import DiaEngine
from chorus_dia.settings import DiaSettings
from chorus_provider import serve_provider


def main() -> None:
    serve_provider(DiaSettings, DiaEngine, "Chorus Dia provider")


if __name__ == "__main__":
    main()
