"""Chorus provider service for Neuphonic's NeuTTS (backbone LM + NeuCodec)."""
