"""Chorus provider service for VibeVoice (transformers' VibeVoiceForConditionalGeneration)."""
