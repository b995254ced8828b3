"""The Chorus router: an OpenAI-compatible speech API in front of many TTS providers.

Folders import only downwards: api/ (HTTP, the wiring object) -> speech/ (one request's
life) -> artifacts/, voices/, audit/ -> routing/ (providers, health) -> storage/.
"""
