"""API security: authentication (API keys, JWT), scopes, rate limits, headers, redaction."""

from chorus_router.security.install import install_security
from chorus_router.security.ratelimit import RouteClass, rate_limited
from chorus_router.security.scopes import require
from chorus_router.security.settings import AuthMode, SecuritySettings

__all__ = [
    "AuthMode",
    "RouteClass",
    "SecuritySettings",
    "install_security",
    "rate_limited",
    "require",
]
