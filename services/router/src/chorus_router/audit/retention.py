"""The retention sweeper: deletes audit events past their retention, on every replica.

Replicas sweeping the same database at once is harmless: the delete is idempotent.
"""

from __future__ import annotations

import asyncio
import logging

from chorus_router.audit.settings import AuditSettings
from chorus_router.audit.store import AuditStore

log = logging.getLogger("chorus.router.audit")
_DAY_S = 86_400.0


async def sweep_forever(store: AuditStore, settings: AuditSettings) -> None:
    while True:
        try:
            removed = await asyncio.to_thread(store.sweep, settings.retention_days * _DAY_S)
        except Exception:
            # A database blip must not end the sweeper; the next round tries again.
            log.exception("audit retention sweep failed")
        else:
            if removed:
                log.info("audit retention sweep", extra={"removed": removed})
        await asyncio.sleep(settings.sweep_interval_s)
