"""OpenAI speech API, or any OpenAI-compatible TTS server, as a Chorus provider."""
