"""The Chatterbox knobs a request may set in `extra_params`, with the ranges the package's
own demo offers; anything else, or a value out of range, is a 400 naming the field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chorus_contracts import InvalidRequest


class ChatterboxExtra(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Emotion intensity: 0.5 is neutral; higher speaks more expressively (and faster).
    exaggeration: float = Field(default=0.5, ge=0.25, le=2.0)
    # Classifier-free guidance weight: lower slows the pace; 0 turns guidance off.
    cfg_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    temperature: float = Field(default=0.8, ge=0.05, le=5.0)


def parse_extra(extra: dict[str, Any]) -> ChatterboxExtra:
    try:
        return ChatterboxExtra.model_validate(extra)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "extra"
        raise InvalidRequest(f"extra.{field}: {first['msg']}", param=f"extra.{field}") from None
