"""Streaming encoders from engine PCM to OpenAI's response formats, 24 kHz mono unless a
client asks for another rate (telephony, or ElevenLabs' `pcm_16000`, `mp3_44100_128`).

Bytes leave while audio is still being fed: each `encode()` returns what the codec and muxer
have produced so far, and `finish()` returns the tail.
"""

import struct
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from fractions import Fraction
from typing import ClassVar

import av
import numpy as np
from av.audio.stream import AudioStream
from av.codec.codec import Capabilities
from av.container import OutputContainer

from chorus_audio.formats import OUTPUT_SAMPLE_RATE, AudioFormat
from chorus_audio.resample import Resampler

_SAMPLE_WIDTH = 2
_STREAMING_SIZE = 0xFFFFFFFF  # OpenAI's "unknown length" RIFF/data size for streamed wav.


class StreamEncoder(ABC):
    """Turns s16le mono PCM at `input_rate` into one response format, incrementally."""

    # True where encoding is at most a resample (tens of microseconds a slice): handing it
    # to a worker thread costs more than doing it, in wake-ups on busy cores.
    light: ClassVar[bool] = False

    def __init__(self, fmt: AudioFormat, input_rate: int, output_rate: int) -> None:
        self.format = fmt
        self.input_rate = input_rate
        self.output_rate = output_rate
        self._resampler = Resampler(input_rate, output_rate)
        self._finished = False

    def encode(self, pcm: bytes) -> bytes:
        """Feed a chunk (any byte count); return the encoded bytes ready now, possibly b""."""
        if self._finished:
            raise RuntimeError("encode() called after finish()")
        return self._encode(self._resampler.process(pcm))

    def finish(self) -> bytes:
        """Flush resampler, codec and muxer; return the remaining bytes of the stream."""
        if self._finished:
            raise RuntimeError("finish() called twice")
        self._finished = True
        return self._finish(self._resampler.flush())

    def close(self) -> None:
        """Abandon the stream (e.g. the client went away) and free codec resources."""
        self._finished = True

    @abstractmethod
    def _encode(self, pcm: bytes) -> bytes: ...

    @abstractmethod
    def _finish(self, pcm: bytes) -> bytes: ...


class _PcmEncoder(StreamEncoder):
    """Headerless s16le: the resampled samples themselves."""

    light = True

    def _encode(self, pcm: bytes) -> bytes:
        return pcm

    def _finish(self, pcm: bytes) -> bytes:
        return pcm


def wav_header(data_size: int = _STREAMING_SIZE, rate: int = OUTPUT_SAMPLE_RATE) -> bytes:
    """A 44-byte PCM16 mono RIFF/WAVE header; the default sizes mean "streamed"."""
    riff_size = _STREAMING_SIZE if data_size == _STREAMING_SIZE else 36 + data_size
    byte_rate = rate * _SAMPLE_WIDTH
    return (
        struct.pack("<4sI4s", b"RIFF", riff_size, b"WAVE")
        + struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, rate, byte_rate, 2, 16)
        + struct.pack("<4sI", b"data", data_size)
    )


def finalize_wav(data: bytes) -> bytes:
    """Rewrite a streamed wav's RIFF and data sizes for a complete, seekable file."""
    return finalize_wav_head(data, len(data))


def finalize_wav_head(head: bytes, total_size: int) -> bytes:
    """`head` (the start of a streamed wav, through its data chunk's header) with the sizes
    of a complete file of `total_size` bytes: for files patched in place."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    offset = 12
    while offset + 8 <= len(head):
        chunk_id, size = struct.unpack_from("<4sI", head, offset)
        if chunk_id == b"data":
            out = bytearray(head)
            struct.pack_into("<I", out, 4, total_size - 8)
            struct.pack_into("<I", out, offset + 4, total_size - offset - 8)
            return bytes(out)
        offset += 8 + size + size % 2  # RIFF chunks are padded to even sizes.
    raise ValueError("wav has no data chunk")


class _WavEncoder(StreamEncoder):
    """OpenAI-style streamed wav: a header with 0xFFFFFFFF sizes, then raw samples."""

    light = True

    def __init__(self, fmt: AudioFormat, input_rate: int, output_rate: int) -> None:
        super().__init__(fmt, input_rate, output_rate)
        self._header: bytes = wav_header(rate=output_rate)

    def _take_header(self) -> bytes:
        header, self._header = self._header, b""
        return header

    def _encode(self, pcm: bytes) -> bytes:
        return self._take_header() + pcm

    def _finish(self, pcm: bytes) -> bytes:
        return self._take_header() + pcm


class _Sink:
    """A write-only, non-seekable byte sink the muxer writes into and we drain after each call."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        return len(data)

    def drain(self) -> bytes:
        out = bytes(self._buffer)
        self._buffer.clear()
        return out


@dataclass(frozen=True)
class _CodecSpec:
    container: str
    codec: str
    sample_format: str
    bit_rate: int | None
    container_options: dict[str, str]
    codec_options: dict[str, str] = field(default_factory=dict)


_SPECS: dict[AudioFormat, _CodecSpec] = {
    # LAME's quality 7 (its default is 3): no noise shaping, the psychoacoustic model kept;
    # half the CPU of the default for the same bit rate, and for speech at 64 kb/s no audible
    # loss (long-form jobs encode every chapter beside the provider; docs/performance.md).
    AudioFormat.MP3: _CodecSpec(
        "mp3", "libmp3lame", "s16p", 64_000, {}, {"compression_level": "7"}
    ),
    # Ogg flushes a page every second by default; short pages keep streaming latency low.
    AudioFormat.OPUS: _CodecSpec("ogg", "libopus", "s16", 32_000, {"page_duration": "100000"}),
    AudioFormat.AAC: _CodecSpec("adts", "aac", "fltp", 64_000, {}),
    # No seek-back is possible, so skip the 8 KiB padding block reserved for rewriting tags.
    AudioFormat.FLAC: _CodecSpec("flac", "flac", "s16", None, {"metadata_header_padding": "0"}),
}


class _AvEncoder(StreamEncoder):
    """A PyAV codec plus muxer writing into a non-seekable in-memory sink."""

    def __init__(self, fmt: AudioFormat, input_rate: int, output_rate: int) -> None:
        super().__init__(fmt, input_rate, output_rate)
        spec = _SPECS[fmt]
        self._sink = _Sink()
        # flush_packets makes the muxer hand every packet to the sink instead of buffering 32 KiB.
        self._container: OutputContainer = av.open(
            self._sink,
            mode="w",
            format=spec.container,
            container_options={"flush_packets": "1", **spec.container_options},
        )
        stream = self._container.add_stream(
            spec.codec, rate=output_rate, options=spec.codec_options
        )
        if not isinstance(stream, AudioStream):
            raise TypeError(f"{spec.codec} is not an audio codec")
        stream.layout = "mono"
        stream.format = spec.sample_format
        if spec.bit_rate is not None:
            stream.bit_rate = spec.bit_rate
        stream.codec_context.open()  # Opens now so frame_size is known and errors surface early.
        self._stream = stream
        codec = stream.codec_context.codec
        self._frame_size = stream.codec_context.frame_size or 0  # 0: any frame size works.
        self._pad_last = not codec.capabilities & (
            Capabilities.small_last_frame | Capabilities.variable_frame_size
        )
        self._pending = bytearray()  # resampled samples not yet a whole codec frame
        self._pts = 0
        self._time_base = Fraction(1, output_rate)

    def _encode(self, pcm: bytes) -> bytes:
        self._pending += pcm
        # Codecs with a fixed frame_size (mp3 576 at 24 kHz, aac 1024, opus 480) get whole
        # frames only, all of them in one AudioFrame: PyAV cuts it into the codec's frames in
        # C, where a Python call per 24 ms frame cost a tenth of MP3's encoding.
        step = self._frame_size * _SAMPLE_WIDTH or len(self._pending)
        whole = len(self._pending) - len(self._pending) % step if step else 0
        if whole:
            self._encode_frame(bytes(self._pending[:whole]))
            del self._pending[:whole]
        return self._sink.drain()

    def close(self) -> None:
        super().close()
        self._container.close()  # Idempotent; whatever the muxer still writes is discarded.

    def _finish(self, pcm: bytes) -> bytes:
        head = self._encode(pcm)
        if self._pending:
            tail = bytes(self._pending)
            if self._pad_last:
                tail = tail.ljust(self._frame_size * _SAMPLE_WIDTH, b"\0")
            self._encode_frame(tail)
            self._pending.clear()
        self._container.start_encoding()  # Writes the header even when no audio came at all.
        self._container.mux(self._stream.encode(None))
        self._container.close()
        return head + self._sink.drain()

    def _encode_frame(self, pcm: bytes) -> None:
        samples = np.frombuffer(pcm, dtype="<i2").reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = self.output_rate
        frame.pts = self._pts
        frame.time_base = self._time_base
        self._pts += frame.samples
        self._container.mux(self._stream.encode(frame))


def open_encoder(
    fmt: AudioFormat | str, input_rate: int, output_rate: int = OUTPUT_SAMPLE_RATE
) -> StreamEncoder:
    """Start a streaming encoder for `fmt` fed with s16le mono PCM at `input_rate` Hz,
    giving audio at `output_rate` Hz (OpenAI's 24 kHz unless asked)."""
    fmt = AudioFormat(fmt)
    if fmt is AudioFormat.PCM:
        return _PcmEncoder(fmt, input_rate, output_rate)
    if fmt is AudioFormat.WAV:
        return _WavEncoder(fmt, input_rate, output_rate)
    return _AvEncoder(fmt, input_rate, output_rate)
