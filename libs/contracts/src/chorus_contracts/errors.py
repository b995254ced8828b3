"""One error taxonomy for every Chorus service.

Each error knows its HTTP status, its OpenAI error `type`, a stable `code`, and whether
another attempt (on the same or another provider) could succeed. Services map these to
responses in exactly one place; the router rebuilds them from a provider's error body.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    """The body of an error: OpenAI's shape plus `retryable` for the provider contract."""

    message: str
    type: str
    param: str | None = None
    code: str | None = None
    retryable: bool = False


class ErrorBody(BaseModel):
    """`{"error": {...}}`, as OpenAI clients and the router parse it."""

    error: ErrorDetail


class ChorusError(Exception):
    """Base of the taxonomy; subclasses fix status, type, code and retryability."""

    status: ClassVar[int] = 500
    type: ClassVar[str] = "server_error"
    code: ClassVar[str] = "internal_error"
    retryable: ClassVar[bool] = False

    def __init__(
        self, message: str, *, param: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.retry_after = retry_after

    def body(self) -> ErrorBody:
        return ErrorBody(
            error=ErrorDetail(
                message=self.message,
                type=self.type,
                param=self.param,
                code=self.code,
                retryable=self.retryable,
            )
        )

    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        return {"Retry-After": str(max(1, round(self.retry_after)))}


class ClientError(ChorusError):
    """The request itself is wrong: never retried, never counted against a provider."""

    status = 400
    type = "invalid_request_error"
    code = "invalid_request"


class InvalidRequest(ClientError):
    """A field is missing, malformed or out of range."""


class PayloadTooLarge(ClientError):
    status = 413
    code = "payload_too_large"


class AuthenticationFailed(ClientError):
    """No valid credentials: a missing, unknown, revoked or expired API key or token."""

    status = 401
    code = "invalid_api_key"

    def headers(self) -> dict[str, str]:
        # RFC 6750: a 401 names the scheme the client should use.
        return {**super().headers(), "WWW-Authenticate": "Bearer"}


class PermissionDenied(ClientError):
    """Valid credentials that lack the scope this operation needs."""

    status = 403
    code = "insufficient_permissions"


class UnknownModel(ClientError):
    status = 404
    code = "model_not_found"


class UnknownVoice(ClientError):
    status = 404
    code = "voice_not_found"


class InvalidAudio(InvalidRequest):
    """An uploaded recording is not acceptable audio (format, length, corrupt, silent)."""

    code = "invalid_audio"


class UnknownConsent(ClientError):
    status = 404
    code = "consent_not_found"


class UnknownApiKey(ClientError):
    status = 404
    code = "api_key_not_found"


class Conflict(ClientError):
    """The request contradicts stored state (e.g. deleting a consent that voices rely on)."""

    status = 409
    code = "conflict"


class QuotaExceeded(ClientError):
    """A per-user storage quota is used up; freeing some lets the request through."""

    status = 403
    type = "insufficient_quota"
    code = "quota_exceeded"


class UnknownFile(ClientError):
    """No stored file by that name for this caller: never made, expired, deleted, or not
    theirs (the same answer for all, so ids never leak)."""

    status = 404
    code = "file_not_found"


class RangeNotSatisfiable(ClientError):
    """A `Range` that starts past the end of the file."""

    status = 416
    code = "range_not_satisfiable"

    def __init__(self, message: str, *, size: int) -> None:
        super().__init__(message, param="range")
        self.size = size

    def headers(self) -> dict[str, str]:
        return {**super().headers(), "Content-Range": f"bytes */{self.size}"}


class StorageQuotaExceeded(ClientError):
    """The caller's stored download files use up their byte quota; they free up as links
    expire or are deleted."""

    status = 429
    type = "insufficient_quota"
    code = "storage_quota_exceeded"


class VoiceCloningUnsupported(ClientError):
    """A custom voice or voice reference was asked of a model none of whose providers clone."""

    code = "voice_cloning_unsupported"


class ProviderBusy(ChorusError):
    """The provider is at its concurrency limit: try elsewhere, honour Retry-After."""

    status = 429
    type = "rate_limit_error"
    code = "provider_busy"
    retryable = True


class RateLimited(ChorusError):
    """The caller used up one of its rate limits; Retry-After says when to come back."""

    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"
    retryable = True


class UpstreamError(ChorusError):
    """The engine or the vendor behind the provider failed."""

    status = 502
    code = "upstream_error"
    retryable = True


class ProviderMisconfigured(ChorusError):
    """The provider cannot work as configured (e.g. the vendor refused its API key).

    Not retried on the same provider and never blamed on the client; an operator must act.
    """

    status = 502
    code = "provider_misconfigured"


class ServiceUnavailable(ChorusError):
    """Not ready yet, overloaded, or (at the router) no provider left to try."""

    status = 503
    code = "service_unavailable"
    retryable = True


class ProviderUnreachable(ServiceUnavailable):
    """No connection to the provider (refused, reset): worth another try on the same one."""

    code = "provider_unreachable"


class UpstreamTimeout(ChorusError):
    status = 504
    code = "upstream_timeout"
    retryable = True


class InternalError(ChorusError):
    """A bug of ours; the message never carries internals."""


_BY_CODE: dict[str, type[ChorusError]] = {
    cls.code: cls
    for cls in (
        InvalidRequest,
        PayloadTooLarge,
        AuthenticationFailed,
        PermissionDenied,
        UnknownModel,
        UnknownVoice,
        InvalidAudio,
        UnknownConsent,
        Conflict,
        QuotaExceeded,
        UnknownFile,
        StorageQuotaExceeded,
        VoiceCloningUnsupported,
        ProviderBusy,
        RateLimited,
        UpstreamError,
        ProviderMisconfigured,
        ServiceUnavailable,
        ProviderUnreachable,
        UpstreamTimeout,
        InternalError,
    )
}

_BY_STATUS: dict[int, type[ChorusError]] = {
    400: InvalidRequest,
    404: UnknownVoice,
    413: PayloadTooLarge,
    422: InvalidRequest,
    429: ProviderBusy,
    502: UpstreamError,
    503: ServiceUnavailable,
    504: UpstreamTimeout,
}


def error_from_response(status: int, payload: Any, retry_after: float | None = None) -> ChorusError:
    """Rebuild the typed error a provider answered with; unknown bodies fall back on status."""
    message = f"provider answered HTTP {status}"
    param: str | None = None
    cls: type[ChorusError] | None = None
    try:
        detail = ErrorBody.model_validate(payload).error
    except ValueError:
        detail = None
    if detail is not None:
        message, param = detail.message, detail.param
        cls = _BY_CODE.get(detail.code or "")
    if cls is None:
        cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ClientError if 400 <= status < 500 else UpstreamError
    return cls(message, param=param, retry_after=retry_after)
