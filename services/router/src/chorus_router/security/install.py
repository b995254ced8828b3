"""Wires authentication, rate limits, headers, CORS and log redaction into the router app."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from chorus_router.security.auth import ApiKeyAuthenticator, Authentication, Authenticator
from chorus_router.security.headers import SecurityHeaders, install_cors
from chorus_router.security.jwt_auth import JwtAuthenticator
from chorus_router.security.keys import KeyStore
from chorus_router.security.ratelimit import RateLimits
from chorus_router.security.redaction import install_log_redaction
from chorus_router.security.settings import AuthMode, SecuritySettings


def install_security(app: FastAPI, settings: SecuritySettings, database: Engine) -> None:
    """Call after the app's other middleware: these must run first (outermost), so that CORS
    preflights need no credentials and every response, errors included, gets the headers.
    API keys are looked up in `database` (migrated before the first request); the other
    modes never touch it."""
    install_log_redaction()
    authenticator = _authenticator(settings, database)
    if authenticator is not None:
        app.state.rate_limits = RateLimits(settings.rate_limits)
        app.add_middleware(Authentication, authenticator=authenticator)
    install_cors(app, settings.cors)
    app.add_middleware(SecurityHeaders)


def _authenticator(settings: SecuritySettings, database: Engine) -> Authenticator | None:
    if settings.mode is AuthMode.API_KEY:
        return ApiKeyAuthenticator(KeyStore(database))
    if settings.mode is AuthMode.JWT:
        return JwtAuthenticator(settings.jwt)
    return None
