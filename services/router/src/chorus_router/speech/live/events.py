"""The client's events on a live session, read from one WebSocket message each."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from chorus_contracts import ChorusError, InvalidRequest


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionUpdate(_Event):
    """New settings for the next turn; fields left out keep their values."""

    type: Literal["session.update"]
    session: dict[str, Any]


class TextAppend(_Event):
    type: Literal["input_text.append"]
    text: str


class TextFlush(_Event):
    """Speak what is buffered now: the turn ends."""

    type: Literal["input_text.flush"]


class TextClear(_Event):
    """Barge-in: drop the buffered text and stop the audio in flight."""

    type: Literal["input_text.clear"]


class TextEnd(_Event):
    """Finish the last turn, then close the session."""

    type: Literal["input_text.end"]


ClientEvent = Annotated[
    SessionUpdate | TextAppend | TextFlush | TextClear | TextEnd, Field(discriminator="type")
]
_EVENTS: TypeAdapter[ClientEvent] = TypeAdapter(ClientEvent)


class NotJson(InvalidRequest):
    """A message that is not JSON at all: the client is broken, and its session closes
    (an event JSON can carry but this protocol lacks is only answered with an error)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the message is not valid JSON: {detail}")


def parse_event(message: str | bytes) -> ClientEvent:
    """The event in `message`; an InvalidRequest that says what is wrong with it."""
    try:
        return _EVENTS.validate_json(message)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise NotJson(first["msg"]) from None
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidRequest(
            f"invalid event{f' at {where}' if where else ''}: {first['msg']}", param=where or None
        ) from None


def error_event(exc: ChorusError, turn_id: str | None = None) -> dict[str, object]:
    """OpenAI's error event; `turn_id` names the turn it ended, if any."""
    event: dict[str, object] = {"type": "error", "error": exc.body().error.model_dump()}
    if turn_id is not None:
        event["turn_id"] = turn_id
    return event
