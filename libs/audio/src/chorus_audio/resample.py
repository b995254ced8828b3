"""Streaming sample-rate conversion for s16le mono PCM, as engines and encoders exchange it.

libsoxr (through python-soxr) rather than PyAV's swresample: every response opens one of
these for its first audio, and swresample's filter graph took 0.3 to 0.7 ms to set up on
the first call, on the path to the first byte, against 0.1 ms for soxr; each later 200 ms
slice costs soxr about two thirds as much (docs/performance.md, router overhead).
"""

import numpy as np
import soxr

_SAMPLE_WIDTH = 2  # bytes per s16 sample
_NOTHING = np.zeros(0, dtype=np.float32)
_SCALE = 32768.0


class Resampler:
    """Converts s16le mono PCM from `in_rate` to `out_rate` chunk by chunk.

    Chunks may split a sample (odd byte counts): the dangling byte is carried to the next call.
    Call `flush()` once at the end to drain the filter's delay line, so no samples are lost.
    """

    def __init__(self, in_rate: int, out_rate: int) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {in_rate} -> {out_rate}")
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._carry = b""
        self._finished = False
        # Equal rates need no filter at all: bytes pass straight through.
        self._soxr: soxr.ResampleStream | None = (
            None
            if in_rate == out_rate
            # float32 in and out: with int16 output libsoxr dithers, and the same audio
            # would come out different on every run.
            else soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32", quality="HQ")
        )

    def process(self, pcm: bytes) -> bytes:
        """Feed one chunk; return the resampled samples that are ready now (possibly b"")."""
        if self._finished:
            raise RuntimeError("Resampler.process() called after flush()")
        data = self._carry + pcm if self._carry else pcm
        whole = len(data) - len(data) % _SAMPLE_WIDTH
        self._carry = bytes(data[whole:])
        if whole == 0:
            return b""
        if self._soxr is None:
            return bytes(data[:whole])
        samples = np.frombuffer(data, dtype="<i2", count=whole // _SAMPLE_WIDTH)
        return _to_pcm(self._soxr.resample_chunk(samples.astype(np.float32) / _SCALE))

    def flush(self) -> bytes:
        """Drain the remaining output; the resampler cannot be used afterwards."""
        if self._finished:
            raise RuntimeError("Resampler.flush() called twice")
        self._finished = True
        if self._carry:
            raise ValueError("PCM stream ended in the middle of a 16-bit sample (odd byte count)")
        if self._soxr is None:
            return b""
        return _to_pcm(self._soxr.resample_chunk(_NOTHING, last=True))


def _to_pcm(samples: np.ndarray) -> bytes:
    scaled = np.rint(samples * _SCALE)
    return np.clip(scaled, -32768, 32767).astype("<i2").tobytes()
