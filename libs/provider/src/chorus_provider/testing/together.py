"""Several syntheses sent to one provider at once, as concurrent clients send them."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx


def synthesize(url: str, body: dict[str, Any], timeout_s: float = 120) -> bytes:
    """The whole PCM body of one synthesis at the provider `url`."""
    response = httpx.post(f"{url}/v1/synthesize", json=body, timeout=timeout_s)
    assert response.status_code == 200, response.text[:300]
    return response.content


def synthesize_together(url: str, bodies: Sequence[dict[str, Any]]) -> list[bytes]:
    """The PCM of every body, all sent at once, each on a connection of its own."""
    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(lambda body: synthesize(url, body), bodies))
