"""Stored audio: download links and the response cache, on the filesystem or S3."""

from chorus_router.artifacts.backends import open_stored_audio
from chorus_router.artifacts.responses import AudioPlan, StoredAudio
from chorus_router.artifacts.settings import ArtifactSettings
from chorus_router.artifacts.sweeper import sweep_forever

__all__ = ["ArtifactSettings", "AudioPlan", "StoredAudio", "open_stored_audio", "sweep_forever"]
