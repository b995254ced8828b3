"""The torch engine base GPU providers share (device, weights, cancel, streaming, unload)."""

from chorus_torch.batching import Batcher, Member, Prefilled, Stepper, in_groups
from chorus_torch.cache_argument import cache_argument
from chorus_torch.decoding import DecodeMany, SharedDecoder
from chorus_torch.device import DeviceUnavailable, Placement, choose_placement
from chorus_torch.engine import TorchEngine
from chorus_torch.frames import FrameSink, FrameWindows, StepStreamer, Window
from chorus_torch.memory import InsufficientGpuMemory, check_gpu_memory
from chorus_torch.padded_cache import PaddedCache, rows_of
from chorus_torch.pcm import to_pcm16
from chorus_torch.reference import reference_audio
from chorus_torch.residency import Residency
from chorus_torch.sampling import Chain, Kinds, Scores, Shareable, draw, probabilities
from chorus_torch.sentences import TorchSentenceEngine
from chorus_torch.settings import TorchSettings
from chorus_torch.stopping import CancelCriteria
from chorus_torch.streaming import stream_generation
from chorus_torch.turns import Turns, device_turns
from chorus_torch.weights import WeightsNotFound, find_snapshot, resolve_weights, weight_bytes

__all__ = [
    "Batcher",
    "CancelCriteria",
    "Chain",
    "DecodeMany",
    "DeviceUnavailable",
    "FrameSink",
    "FrameWindows",
    "InsufficientGpuMemory",
    "Kinds",
    "Member",
    "PaddedCache",
    "Placement",
    "Prefilled",
    "Residency",
    "Scores",
    "Shareable",
    "SharedDecoder",
    "StepStreamer",
    "Stepper",
    "TorchEngine",
    "TorchSentenceEngine",
    "TorchSettings",
    "Turns",
    "WeightsNotFound",
    "Window",
    "cache_argument",
    "check_gpu_memory",
    "choose_placement",
    "device_turns",
    "draw",
    "find_snapshot",
    "in_groups",
    "probabilities",
    "reference_audio",
    "resolve_weights",
    "rows_of",
    "stream_generation",
    "to_pcm16",
    "weight_bytes",
]
