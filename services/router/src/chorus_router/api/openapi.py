"""What the router's OpenAPI document says about its error answers (chorus_contracts.responses
makes them)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from chorus_contracts import ErrorBody

ERROR_STATUSES = {
    "400": "Invalid request (OpenAI's error shape; FastAPI's 422 is never sent)",
    "401": "Missing or invalid credentials (when authentication is on)",
    "403": "The credentials lack the scope this route needs",
    "404": "Unknown model, voice or resource",
    "409": "The request contradicts stored state (e.g. a consent that voices rely on)",
    "413": "Request body too large",
    "416": "A Range past the end of a stored file",
    "429": "Rate limited, or a storage quota is full; see Retry-After",
    "500": "A fault of the router's own (the message carries no internals)",
    "502": "A provider failed or is misconfigured",
    "503": "No provider can serve; see Retry-After",
    "504": "A provider did not answer in time",
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
                for status, description in ERROR_STATUSES.items():
                    responses.setdefault(status, {"description": description, **reply})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
