"""The router's own dependencies, which decide `/readyz`: not its providers.

Provider health is routing state. A router whose providers are all down still answers
`/v1/models`, the voice and key APIs, and speech requests with an OpenAI-shaped 503 and
`Retry-After`; taking it out of the Service would hand clients the ingress's own errors.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from chorus_router.routing.registry import RegistrySource

_DATABASE_TIMEOUT_S = 2.0


class Readiness:
    """Settings loaded (the app exists), database reachable, registry source running and
    synced (a cluster's router waits for the API server's first answer)."""

    def __init__(
        self, database: Engine, source: RegistrySource, registry_watch: asyncio.Task[None]
    ) -> None:
        self._database = database
        self._source = source
        self._registry_watch = registry_watch

    async def problems(self) -> dict[str, str]:
        """Each dependency's state, "ok" or what is wrong with it."""
        return {
            "settings": "ok",
            "database": await self._database_state(),
            "registry": self._registry_state(),
        }

    async def _database_state(self) -> str:
        try:
            async with asyncio.timeout(_DATABASE_TIMEOUT_S):
                await asyncio.to_thread(self._ping)
        except TimeoutError:
            return f"no answer within {_DATABASE_TIMEOUT_S:g}s"
        except SQLAlchemyError as exc:
            return f"unreachable: {type(exc).__name__}"
        return "ok"

    def _ping(self) -> None:
        with self._database.connect() as connection:
            connection.execute(text("SELECT 1"))

    def _registry_state(self) -> str:
        watch = self._registry_watch
        if watch.done():
            return (
                "stopped" if watch.cancelled() else f"stopped: {type(watch.exception()).__name__}"
            )
        status = self._source.status()
        if not status.synced:
            return f"not synced yet: {status.error or 'waiting for the first list'}"
        return "ok"
