"""The one mapping from the error taxonomy to HTTP answers, for the router and providers.

Every error a Chorus service sends is `{"error": {...}}` with the status its type fixes:
typed errors, bodies that fail validation (a 400 naming the field, never FastAPI's 422),
unknown paths and methods, and bugs (a 500 that says nothing of internals).
Needs the `http` extra (FastAPI).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from chorus_contracts.errors import ChorusError, InternalError, InvalidRequest

log = logging.getLogger("chorus.errors")

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def error_response(exc: ChorusError) -> JSONResponse:
    return JSONResponse(exc.body().model_dump(), status_code=exc.status, headers=exc.headers())


def install_error_handlers(app: FastAPI, service: str) -> None:
    """Answer every error of `app` in the taxonomy's shape; `service` names whose log to read."""

    @app.exception_handler(ChorusError)
    async def _typed(_: Request, exc: ChorusError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(describe_validation(exc))

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        body = InvalidRequest(str(exc.detail)).body()
        body.error.code = _HTTP_CODES.get(exc.status_code)
        return JSONResponse(body.model_dump(), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(InternalError(f"internal error; the {service}'s log has details"))


def describe_validation(exc: RequestValidationError) -> InvalidRequest:
    """The first validation problem, worded as OpenAI words it, with the field as `param`."""
    errors = exc.errors()
    if not errors:
        return InvalidRequest("invalid request body")
    first = errors[0]
    if first.get("type") == "json_invalid":
        return InvalidRequest("request body is not valid JSON")
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    # Pydantic reports union members as extra path parts ("voice.str"); name the field, and
    # a nested object's field by its path ("normalization_options.url_normalization").
    param = ".".join(p for p in loc if not _union_member(p)) or None
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if first.get("type") == "extra_forbidden":
        message = f"Unrecognized request argument supplied: {param}"
    elif first.get("type") == "missing":
        message = f"Missing required parameter: '{param}'."
    elif param:
        message = f"Invalid value for '{param}': {message}"
    return InvalidRequest(message, param=param)


def describe_model_validation(exc: ValidationError) -> InvalidRequest:
    """A body model a handler validates itself, worded as FastAPI's own validation errors."""
    return describe_validation(RequestValidationError(exc.errors()))


def _union_member(part: str) -> bool:
    """Whether a location part names a union's member type rather than a field; fields
    are snake_case, member types are class names or builtins."""
    return part[:1].isupper() or part in ("str", "int", "float", "bool", "dict", "list")
