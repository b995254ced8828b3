"""Piper as a Chorus provider: fast neural voices on CPU (onnxruntime)."""
