"""Chorus's OpenAI-compatible speech router."""
