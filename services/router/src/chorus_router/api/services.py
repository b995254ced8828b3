"""What request handlers need, built once per app and handed to them through Depends."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from chorus_router.artifacts.responses import StoredAudio
from chorus_router.audit import AuditTrail
from chorus_router.jobs.service import Jobs
from chorus_router.lexicons.store import LexiconStore
from chorus_router.metrics import RouterMetrics
from chorus_router.readiness import Readiness
from chorus_router.routing.pool import ProviderPool
from chorus_router.routing.registry import RegistrySource
from chorus_router.security.keys import KeyStore
from chorus_router.settings import RouterSettings
from chorus_router.speech.encoding import EncodingPool
from chorus_router.speech.live import SessionSlots
from chorus_router.speech.policy import SpeechRouter
from chorus_router.voices.library import VoiceLibrary


@dataclass
class RouterServices:
    settings: RouterSettings
    pool: ProviderPool
    router: SpeechRouter
    metrics: RouterMetrics
    voices: VoiceLibrary
    lexicons: LexiconStore
    registry: RegistrySource
    artifacts: StoredAudio
    audit: AuditTrail
    keys: KeyStore
    readiness: Readiness
    encoding: EncodingPool
    live_sessions: SessionSlots
    # None when no job queue is configured (the jobs API then answers 503).
    jobs: Jobs | None


# The dependencies here and in caller.py are `async def` though they never wait: FastAPI runs
# a plain `def` dependency on a worker thread, a hop there and back for every request.
async def get_services(request: Request) -> RouterServices:
    services: RouterServices = request.app.state.services
    return services
