"""Kokoro-82M (kokoro-onnx) as a Chorus provider: a small neural model on CPU or CUDA."""
