"""Audio plumbing shared by Chorus services: resampling, OpenAI output encoders, decoding."""

from chorus_audio.cadence import CADENCE_S, slices
from chorus_audio.decode import DecodedAudio, UndecodableAudio, decode_audio
from chorus_audio.encoders import (
    StreamEncoder,
    finalize_wav,
    finalize_wav_head,
    open_encoder,
    wav_header,
)
from chorus_audio.formats import OUTPUT_SAMPLE_RATE, AudioFormat, content_type
from chorus_audio.resample import Resampler
from chorus_audio.ulaw import pcm_to_ulaw

__all__ = [
    "CADENCE_S",
    "OUTPUT_SAMPLE_RATE",
    "AudioFormat",
    "DecodedAudio",
    "Resampler",
    "StreamEncoder",
    "UndecodableAudio",
    "content_type",
    "decode_audio",
    "finalize_wav",
    "finalize_wav_head",
    "open_encoder",
    "pcm_to_ulaw",
    "slices",
    "wav_header",
]
