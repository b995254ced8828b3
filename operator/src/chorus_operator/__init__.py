"""The Chorus operator."""
