"""The one place where errors become OpenAI-shaped responses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from chorus_contracts import ChorusError, InternalError, InvalidRequest

log = logging.getLogger("chorus.router")


def error_response(exc: ChorusError) -> JSONResponse:
    return JSONResponse(exc.body().model_dump(), status_code=exc.status, headers=exc.headers())


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ChorusError)
    async def _typed(_: Request, exc: ChorusError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(_describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        err = InvalidRequest(str(exc.detail))
        body = err.body()
        body.error.code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        return JSONResponse(body.model_dump(), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(InternalError("internal error; the router's log has details"))


def _describe_validation(exc: RequestValidationError) -> InvalidRequest:
    errors = exc.errors()
    if not errors:
        return InvalidRequest("invalid request body")
    first = errors[0]
    if first.get("type") == "json_invalid":
        return InvalidRequest("request body is not valid JSON")
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    # Pydantic reports union members as extra path parts ("voice.str"); name the field.
    param = loc[0] if loc else None
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if first.get("type") == "extra_forbidden":
        message = f"Unrecognized request argument supplied: {param}"
    elif first.get("type") == "missing":
        message = f"Missing required parameter: '{param}'."
    elif param:
        message = f"Invalid value for '{param}': {message}"
    return InvalidRequest(message, param=param)
