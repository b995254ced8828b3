"""Chorus provider service for Higgs Audio v2 (HiggsAudioV2ForConditionalGeneration)."""
