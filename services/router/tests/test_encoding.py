"""Where a response's encoding runs: pcm and wav on the event loop, codecs on the workers."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from chorus_audio import AudioFormat, StreamEncoder, open_encoder
from chorus_router.speech.encoding import EncodingPool

SLICE = (np.sin(np.arange(4410) / 10) * 8000).astype("<i2").tobytes()


class _Recording:
    """An encoder that notes which thread each of its calls ran on."""

    def __init__(self, inner: StreamEncoder) -> None:
        self.inner = inner
        self.light = inner.light
        self.threads: set[str] = set()

    def encode(self, pcm: bytes) -> bytes:
        self.threads.add(threading.current_thread().name)
        return self.inner.encode(pcm)

    def finish(self) -> bytes:
        self.threads.add(threading.current_thread().name)
        return self.inner.finish()


@pytest.mark.parametrize(
    ("fmt", "on_loop"),
    [("pcm", True), ("wav", True), ("mp3", False), ("opus", False), ("aac", False)],
)
async def test_only_codecs_leave_the_event_loop(fmt: str, on_loop: bool) -> None:
    pool = EncodingPool(1)
    encoder = _Recording(open_encoder(AudioFormat(fmt), 22_050))
    try:
        data = await pool.encode(encoder, SLICE)  # type: ignore[arg-type]
        data += await pool.finish(encoder)  # type: ignore[arg-type]
    finally:
        pool.close()
    assert data, "the encoder made no bytes"
    loop_thread = threading.current_thread().name
    assert (encoder.threads == {loop_thread}) is on_loop, encoder.threads
