"""Pieces of one text fetched from the upstream a few at a time, played in order.

The piece at the head streams through as it arrives; up to `lookahead - 1` later pieces are
already being made meanwhile, each into a buffer of its own (a piece is one sentence, so
that is bounded). Leaving the iterator early (the client went away) cancels every piece
still in flight, which closes their upstream connections.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing

Fetch = Callable[[str], AsyncGenerator[bytes, None]]
_DONE = object()


async def pipelined(pieces: list[str], fetch: Fetch, lookahead: int) -> AsyncGenerator[bytes, None]:
    """`fetch(piece)` for each piece, `lookahead` at a time, their chunks in text order."""
    waiting = iter(pieces)
    window: deque[tuple[asyncio.Task[None], asyncio.Queue[object]]] = deque()

    def start_next() -> None:
        piece = next(waiting, None)
        if piece is not None:
            queue: asyncio.Queue[object] = asyncio.Queue()
            window.append((asyncio.create_task(_into(fetch(piece), queue)), queue))

    try:
        for _ in range(lookahead):
            start_next()
        while window:
            _, queue = window[0]
            while (item := await queue.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, bytes)
                yield item
            window.popleft()
            start_next()
    finally:
        for task, _ in window:
            task.cancel()
        await asyncio.gather(*(task for task, _ in window), return_exceptions=True)


async def _into(chunks: AsyncGenerator[bytes, None], queue: asyncio.Queue[object]) -> None:
    try:
        # aclosing: a cancelled piece closes its upstream response now, not at GC time.
        async with aclosing(chunks):
            async for chunk in chunks:
                queue.put_nowait(chunk)
    except Exception as exc:
        queue.put_nowait(exc)
        return
    queue.put_nowait(_DONE)
