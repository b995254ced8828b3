"""The one place where errors become OpenAI-shaped responses."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from chorus_contracts import ChorusError, ErrorBody, InternalError, InvalidRequest

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


_ERROR_STATUSES = {
    "400": "Invalid request (OpenAI's error shape; FastAPI's 422 is never sent)",
    "401": "Missing or invalid credentials (when authentication is on)",
    "403": "The credentials lack the scope this route needs",
    "404": "Unknown model, voice or resource",
    "413": "Request body too large",
    "429": "Rate limited; see Retry-After",
    "503": "No provider can serve; see Retry-After",
}
_UNDOCUMENTED = ("/healthz", "/readyz", "/metrics")


def document_errors(app: FastAPI) -> None:
    """Make the OpenAPI document list the error answers the router really gives."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        error = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(error.pop("$defs", {}))
        components["ErrorBody"] = error
        reply = {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        }
        for path, operations in schema.get("paths", {}).items():
            if path in _UNDOCUMENTED:
                continue
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                for status, description in _ERROR_STATUSES.items():
                    responses.setdefault(status, {"description": description, **reply})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _describe_validation(exc: RequestValidationError) -> InvalidRequest:
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


def _union_member(part: str) -> bool:
    """Whether a location part names a union's member type rather than a field; fields
    are snake_case, member types are class names or builtins."""
    return part[:1].isupper() or part in ("str", "int", "float", "bool", "dict", "list")
