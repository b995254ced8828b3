"""Which container a file really is, read from its first bytes, and signs that it was cut short.

The name and declared MIME type of an upload say nothing reliable; the magic bytes do. Naming
the demuxer ourselves also keeps FFmpeg from probing formats that reference other files or
URLs (playlists, concat lists), which have no place in a voice upload.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

ACCEPTED = "wav, mp3, flac, ogg, opus, m4a, webm"


@dataclass(frozen=True)
class Container:
    """A recognised container: the FFmpeg demuxer to use and the codecs allowed inside it."""

    label: str
    demuxer: str
    codecs: frozenset[str]
    # Whether FFmpeg's duration for this file comes from its header (so a shortfall in the
    # decoded audio means truncation) rather than from a bitrate estimate.
    header_duration: bool


_PCM = frozenset(
    {"pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le", "pcm_u8", "pcm_s16be"}
)
WAV = Container("wav", "wav", _PCM, header_duration=False)
MP3 = Container("mp3", "mp3", frozenset({"mp3", "mp3float"}), header_duration=False)
FLAC = Container("flac", "flac", frozenset({"flac"}), header_duration=True)
OGG = Container(
    "ogg", "ogg", frozenset({"vorbis", "opus", "libopus", "flac"}), header_duration=False
)
WEBM = Container("webm", "matroska", frozenset({"opus", "libopus", "vorbis"}), header_duration=True)
M4A = Container("m4a", "mp4", frozenset({"aac", "alac"}), header_duration=True)


def sniff(data: bytes) -> Container | None:
    """The container the bytes begin with, or None when they are none we accept."""
    head = data[:12]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head[:4] == b"fLaC":
        return FLAC
    if head[:4] == b"OggS":
        return OGG
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska and WebM
        return WEBM
    if head[4:8] == b"ftyp":
        return M4A
    if head[:3] == b"ID3" or _mpeg_audio_sync(head):
        return MP3
    return None


def _mpeg_audio_sync(head: bytes) -> bool:
    # 11 sync bits, then a layer other than 00 (which is ADTS AAC, not MPEG audio).
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06 != 0


def truncation(container: Container, data: bytes) -> str | None:
    """Why the file looks cut off, from what its own structure promises; None if it looks whole."""
    if container is WAV:
        return _wav_truncation(data)
    if container is OGG:
        return _ogg_truncation(data)
    return None


def trusts_header_duration(container: Container, data: bytes) -> bool:
    """MP3 states its length only in a Xing/Info/VBRI frame; without one FFmpeg estimates it."""
    if container is MP3:
        start = _id3_size(data)
        frame = data[start : start + 256]
        return any(tag in frame for tag in (b"Xing", b"Info", b"VBRI"))
    return container.header_duration


def _wav_truncation(data: bytes) -> str | None:
    offset = 12
    while offset + 8 <= len(data):
        chunk, size = struct.unpack_from("<4sI", data, offset)
        if chunk == b"data":
            available = len(data) - offset - 8
            # 0 and 0xFFFFFFFF mean "unknown length" (streamed wav); anything else is a promise.
            if size not in (0, 0xFFFFFFFF) and available < size:
                return f"the wav data chunk promises {size} bytes but holds {available}"
            return None
        offset += 8 + size + size % 2
    return "the wav file has no complete data chunk"


def _ogg_truncation(data: bytes) -> str | None:
    """Walk the pages: each must be whole, and the last must be flagged end-of-stream."""
    offset, flags = 0, 0
    while offset < len(data):
        if data[offset : offset + 4] != b"OggS" or offset + 27 > len(data):
            return "the ogg stream breaks off inside a page header"
        table_end = offset + 27 + data[offset + 26]
        if table_end > len(data):
            return "the ogg stream breaks off inside a page header"
        flags = data[offset + 5]
        offset = table_end + sum(data[offset + 27 : table_end])
        if offset > len(data):
            return "the ogg stream ends inside its last page"
    if not flags & 0x04:
        return "the ogg stream ends without its end-of-stream page"
    return None


def _id3_size(data: bytes) -> int:
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    size = 0
    for byte in data[6:10]:  # syncsafe: 7 bits per byte
        size = (size << 7) | (byte & 0x7F)
    return 10 + size
