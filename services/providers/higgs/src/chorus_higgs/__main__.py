from __future__ import annotations

from chorus_higgs.engine import HiggsEngine
from chorus_higgs.settings import HiggsSettings
from chorus_provider import serve_provider


def main() -> None:
    serve_provider(HiggsSettings, HiggsEngine, "Chorus Higgs Audio v2 provider")


if __name__ == "__main__":
    main()
