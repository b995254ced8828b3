"""Live speech: a WebSocket session that speaks text as it is written (voice agents)."""

from chorus_router.speech.live.config import LiveSettings, SessionConfig
from chorus_router.speech.live.events import error_event, parse_event
from chorus_router.speech.live.session import (
    Account,
    BufferFull,
    LiveSession,
    NoNewTurns,
    Send,
    SpeechParts,
)
from chorus_router.speech.live.sessions import SessionsFull, SessionSlots
from chorus_router.speech.live.text_buffer import TextBuffer

__all__ = [
    "Account",
    "BufferFull",
    "LiveSession",
    "LiveSettings",
    "NoNewTurns",
    "Send",
    "SessionConfig",
    "SessionSlots",
    "SessionsFull",
    "SpeechParts",
    "TextBuffer",
    "error_event",
    "parse_event",
]
