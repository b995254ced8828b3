"""Work that stops when the HTTP client leaves: the rule both sides of every hop keep.

An ASGI server does not cancel a request's work when its client disconnects; it only
reports `http.disconnect` on `receive`. A response that owns its work runs it next to a
watcher on `receive`, and cancels it the moment the client is gone, whether or not a
body byte has been sent. The router's leaving then closes the provider connection, and
the provider's own watcher stops the engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

Receive = Callable[[], Awaitable[Mapping[str, Any]]]


async def until_disconnect(receive: Receive) -> None:
    """Return when the client has gone (call only once the request body has been read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def run_while_connected(
    work: Coroutine[Any, Any, None], receive: Receive, on_leave: Callable[[], None]
) -> bool:
    """Run `work`; if the client leaves first, call `on_leave` and cancel `work`.

    Returns whether the client left. An error `work` raised (while the client stayed) is
    raised again, so errors before the first byte still reach the app's error handlers.
    """
    task = asyncio.create_task(work)
    gone = asyncio.create_task(until_disconnect(receive))
    left = False
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not task.done():
            # The client left, or this response itself is being cancelled (shutdown).
            left = True
            on_leave()
            task.cancel()
        gone.cancel()
        await asyncio.wait([task])
    error = None if task.cancelled() else task.exception()
    if error is not None and not left:
        raise error
    return left
