"""Idle unload: the model goes after idling, comes back on the next use, readiness says so."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from chorus_contracts import ServiceUnavailable
from chorus_torch import Residency


class Loads:
    def __init__(self) -> None:
        self.count = 0
        self.fail = False

    def __call__(self) -> dict[str, int]:
        if self.fail:
            raise RuntimeError("CUDA out of memory")
        self.count += 1
        return {"load": self.count}


async def test_an_idle_model_is_unloaded_and_loaded_again_on_use() -> None:
    loads = Loads()
    residency = Residency(loads, idle_unload_s=0.05, executor=ThreadPoolExecutor(1))
    await residency.load()
    async with residency.use() as model:
        await asyncio.sleep(0.1)  # in use: never unloaded under a running generation
        assert model == {"load": 1}
    assert residency.describe() == "model loaded"
    await asyncio.sleep(0.2)
    assert residency.describe().startswith("model unloaded after")
    async with residency.use() as model:
        assert model == {"load": 2}
    await residency.close()


async def test_a_failed_reload_is_a_retryable_503() -> None:
    loads = Loads()
    residency = Residency(loads, idle_unload_s=0.01, executor=ThreadPoolExecutor(1))
    await residency.load()
    await asyncio.sleep(0.1)
    loads.fail = True
    with pytest.raises(ServiceUnavailable, match="out of memory"):
        async with residency.use():
            pass


async def test_without_idle_unload_the_model_stays() -> None:
    loads = Loads()
    residency = Residency(loads, idle_unload_s=0, executor=ThreadPoolExecutor(1))
    await residency.load()
    async with residency.use():
        pass
    await asyncio.sleep(0.05)
    assert residency.describe() == "model loaded"
    assert loads.count == 1
