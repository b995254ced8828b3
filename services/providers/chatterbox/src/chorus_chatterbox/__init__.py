"""Chorus provider service for Resemble AI's Chatterbox (`chatterbox-tts`)."""
