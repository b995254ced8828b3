from __future__ import annotations

from chorus_openai.engine import OpenAIEngine
from chorus_openai.settings import OpenAISettings
from chorus_provider import serve_provider


def main() -> None:
    serve_provider(OpenAISettings, OpenAIEngine, "Chorus OpenAI (and OpenAI-compatible) provider")


if __name__ == "__main__":
    main()
