"""ElevenLabs text-to-speech as a Chorus provider."""
