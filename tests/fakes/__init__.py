"""Local stand-ins for vendor TTS APIs, run as real processes by tests.

Each fake enforces its vendor's documented contract (auth header, request schema, error
shapes, streamed PCM made with espeak-ng) and takes orders on `/_fake/...` to misbehave.
They are test code: nothing in the product imports them.
"""
