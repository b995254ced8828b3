"""A request's `extra` (the client's `extra_params`) read into an engine's own typed model.

`extra_params` is one bag for every provider in a fallback chain: models should ignore keys
they do not know (a key meant for another provider is not this one's error) and check the
ones they do.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from chorus_contracts import InvalidRequest

T = TypeVar("T", bound=BaseModel)


def parse_extra_params(model: type[T], extra: dict[str, Any]) -> T:
    """`extra` validated by `model`; the first problem becomes a 400 naming the field."""
    try:
        return model.model_validate(extra)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidRequest(
            f"extra_params.{where}: {first['msg']}", param="extra_params"
        ) from None
