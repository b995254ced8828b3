"""Streaming sample-rate conversion for s16le mono PCM, as engines and encoders exchange it."""

import av
import numpy as np

_SAMPLE_WIDTH = 2  # bytes per s16 sample


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
        self._av: av.AudioResampler | None = (
            None
            if in_rate == out_rate
            else av.AudioResampler(format="s16", layout="mono", rate=out_rate)
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
        if self._av is None:
            return bytes(data[:whole])
        samples = np.frombuffer(data, dtype="<i2", count=whole // _SAMPLE_WIDTH)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.in_rate
        return self._frames_to_bytes(self._av.resample(frame))

    def flush(self) -> bytes:
        """Drain the remaining output; the resampler cannot be used afterwards."""
        if self._finished:
            raise RuntimeError("Resampler.flush() called twice")
        self._finished = True
        if self._carry:
            raise ValueError("PCM stream ended in the middle of a 16-bit sample (odd byte count)")
        if self._av is None:
            return b""
        return self._frames_to_bytes(self._av.resample(None))

    @staticmethod
    def _frames_to_bytes(frames: list[av.AudioFrame]) -> bytes:
        return b"".join(bytes(frame.planes[0])[: frame.samples * _SAMPLE_WIDTH] for frame in frames)
