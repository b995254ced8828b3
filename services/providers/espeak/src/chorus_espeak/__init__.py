"""espeak-ng as a Chorus provider: formant synthesis, ~130 languages, no model files."""
