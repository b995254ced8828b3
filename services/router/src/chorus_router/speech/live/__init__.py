"""Live speech: a WebSocket session that speaks text as it is written (voice agents)."""

from chorus_router.speech.live.config import LiveSettings, SessionConfig
from chorus_router.speech.live.events import (
    ClientEvent,
    NotJson,
    SessionUpdate,
    TextAppend,
    TextEnd,
    TextFlush,
    error_event,
    parse_event,
)
from chorus_router.speech.live.message_rate import MessageRate
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
    "ClientEvent",
    "LiveSession",
    "LiveSettings",
    "MessageRate",
    "NoNewTurns",
    "NotJson",
    "Send",
    "SessionConfig",
    "SessionSlots",
    "SessionUpdate",
    "SessionsFull",
    "SpeechParts",
    "TextAppend",
    "TextBuffer",
    "TextEnd",
    "TextFlush",
    "error_event",
    "parse_event",
]
