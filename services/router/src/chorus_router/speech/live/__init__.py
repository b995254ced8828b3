"""Live speech: a WebSocket session that speaks text as it is written (voice agents)."""

from chorus_router.speech.live.config import LiveSettings, SessionConfig
from chorus_router.speech.live.events import error_event, parse_event
from chorus_router.speech.live.session import BufferFull, LiveSession, Send, SpeechParts
from chorus_router.speech.live.sessions import SessionSlots
from chorus_router.speech.live.text_buffer import TextBuffer

__all__ = [
    "BufferFull",
    "LiveSession",
    "LiveSettings",
    "Send",
    "SessionConfig",
    "SessionSlots",
    "SpeechParts",
    "TextBuffer",
    "error_event",
    "parse_event",
]
