"""Several syntheses sent to one provider at once, as concurrent clients send them."""

from __future__ import annotations

from array import array
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


# 16-bit steps by which a sample may differ between two runs of the same audio: a batched
# codec call sums the same numbers in another order, so a sample may round the other way.
SAMPLE_TOLERANCE = 1


def same_audio(left: bytes, right: bytes) -> bool:
    """Whether two PCM16 bodies are the same audio: as long, each sample within tolerance."""
    if len(left) != len(right):
        return False
    samples = zip(array("h", left), array("h", right), strict=True)
    return all(abs(a - b) <= SAMPLE_TOLERANCE for a, b in samples)
