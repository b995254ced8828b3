"""One error taxonomy for every Chorus service.

Each error knows its HTTP status, its OpenAI error `type`, a stable `code`, whether another
attempt could succeed, and what routing does when a provider answers with it: retry the same
provider, move on to the next, count it against the provider's breaker, or stop. Routing reads
these flags and nothing else. Services map errors to responses in exactly one place; the
router rebuilds them from a provider's error body.
"""

from __future__ import annotations

from typing import ClassVar

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
    """Base of the taxonomy; subclasses fix status, type, code and what routing does."""

    status: ClassVar[int] = 500
    type: ClassVar[str] = "server_error"
    code: ClassVar[str] = "internal_error"
    # Another attempt, now or after Retry-After, could succeed (sent to clients as is).
    retryable: ClassVar[bool] = False
    # From a provider: a transient fault worth another try on the same provider, after a backoff.
    retry_same_provider: ClassVar[bool] = False
    # From a provider: its own fault, so its circuit breaker hears of it.
    counts_against_breaker: ClassVar[bool] = True
    # From a provider: it is busy or not ready, and its Retry-After is a cool-down for it.
    backpressure: ClassVar[bool] = False
    # From a provider: this one cannot serve the request (its voices, languages, limits), but
    # another of the model's providers may; the client hears it only if every one says so.
    other_provider_may_serve: ClassVar[bool] = False

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
    counts_against_breaker = False


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
    other_provider_may_serve = True


class UnknownVoice(ClientError):
    status = 404
    code = "voice_not_found"
    other_provider_may_serve = True


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


class UnknownJob(ClientError):
    """No long-form job by that id for this caller: never made, or not theirs (the same
    answer for both, so ids never leak)."""

    status = 404
    code = "job_not_found"


class UnknownLexicon(ClientError):
    """No pronunciation lexicon by that id for this caller: never made, or not theirs (the
    same answer for both, so ids never leak)."""

    status = 404
    code = "lexicon_not_found"


class RangeNotSatisfiable(ClientError):
    """A `Range` that starts past the end of the file."""

    status = 416
    code = "range_not_satisfiable"

    def __init__(
        self,
        message: str,
        *,
        size: int | None = None,
        param: str | None = "range",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, param=param, retry_after=retry_after)
        self.size = size

    def headers(self) -> dict[str, str]:
        if self.size is None:
            return super().headers()
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
    other_provider_may_serve = True


class ProviderCannotServe(ClientError):
    """This provider cannot serve the request (its language, voice, length), another may.

    The router moves on to the next candidate; only when every candidate says so does the
    client get it, with what each one said.
    """

    code = "provider_cannot_serve"
    other_provider_may_serve = True


class ProviderBusy(ChorusError):
    """The provider is at its concurrency limit: try elsewhere, honour Retry-After."""

    status = 429
    type = "rate_limit_error"
    code = "provider_busy"
    retryable = True
    # Healthy backpressure, not a fault.
    counts_against_breaker = False
    backpressure = True


class RateLimited(ChorusError):
    """The caller used up one of its rate limits; Retry-After says when to come back."""

    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"
    retryable = True
    counts_against_breaker = False


class UpstreamError(ChorusError):
    """The engine or the vendor behind the provider failed."""

    status = 502
    code = "upstream_error"
    retryable = True
    retry_same_provider = True


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
    backpressure = True


class ProviderUnreachable(ServiceUnavailable):
    """No connection to the provider (refused, reset): worth another try on the same one."""

    code = "provider_unreachable"
    retry_same_provider = True
    backpressure = False


class UpstreamTimeout(ChorusError):
    status = 504
    code = "upstream_timeout"
    retryable = True
    retry_same_provider = True


class InternalError(ChorusError):
    """A bug of ours; the message never carries internals."""


def taxonomy() -> list[type[ChorusError]]:
    """Every error type of the contract: ChorusError and its subclasses here, at any depth."""
    found: list[type[ChorusError]] = []
    pending: list[type[ChorusError]] = [ChorusError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__ == __name__]


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
        UnknownApiKey,
        Conflict,
        QuotaExceeded,
        UnknownFile,
        UnknownJob,
        UnknownLexicon,
        RangeNotSatisfiable,
        StorageQuotaExceeded,
        VoiceCloningUnsupported,
        ProviderCannotServe,
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

# What a bare status means when its body says nothing to trust (a proxy, a wrong URL, a crash,
# a vendor's 5xx): never the client's fault, always something that counts against the
# provider. Read by the router for providers and by cloud providers for their vendors.
_BY_STATUS: dict[int, type[ChorusError]] = {
    408: UpstreamTimeout,
    429: ProviderBusy,
    503: ServiceUnavailable,
    504: UpstreamTimeout,
}
_MAX_QUOTED = 200


def error_for_status(status: int, message: str, retry_after: float | None = None) -> ChorusError:
    """The error a status alone says: busy, not ready and timeouts by name; any other 4xx a
    misconfiguration (the caller's own request was refused), any other status a failure."""
    if status in _BY_STATUS:
        return _BY_STATUS[status](message, retry_after=retry_after)
    if 400 <= status < 500:
        return ProviderMisconfigured(message)
    return UpstreamError(message)


def error_from_response(
    status: int, body: bytes, retry_after: float | None = None, *, source: str = "provider"
) -> ChorusError:
    """Rebuild the typed error a provider answered with.

    Only a body in the contract's shape with a code of this taxonomy is trusted; anything
    else (other JSON, an HTML page, nothing) is the provider's failure or misconfiguration,
    and the message quotes what came back.
    """
    try:
        detail: ErrorDetail | None = ErrorBody.model_validate_json(body).error
    except ValueError:
        detail = None
    cls = _BY_CODE.get(detail.code or "") if detail is not None else None
    if detail is not None and cls is not None:
        return cls(detail.message, param=detail.param, retry_after=retry_after)
    quoted = body[:_MAX_QUOTED].decode("utf-8", errors="replace").strip() or "an empty body"
    return error_for_status(
        status, f"{source} answered HTTP {status} outside the contract: {quoted}", retry_after
    )
