"""The torch base for packages that synthesize a whole utterance per call.

Some model packages (chatterbox-tts, neutts) own their generation loop and decoder and
return finished audio; there are no frames to stream. Their engines render sentence by
sentence (`SentenceEngine`) with the torch base's placement and idle unload around them;
each stops its own loop on cancel through a hook on the model.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

import torch

from chorus_contracts import SynthesisRequest
from chorus_provider import SentenceEngine
from chorus_provider.cancel import CancelSignal
from chorus_provider.engine import Words
from chorus_torch.device import Placement, choose_placement
from chorus_torch.residency import Residency
from chorus_torch.settings import TorchSettings

M = TypeVar("M")


class TorchSentenceEngine(SentenceEngine, Generic[M]):
    """One model, one generation at a time, rendered sentence by sentence.

    A provider implements `load_model` (blocking, in the worker thread) and `render`, which
    reads the loaded model from `self.model`.
    """

    def __init__(self, settings: TorchSettings) -> None:
        # One worker: the model packages keep per-call state (conditionals, KV caches).
        super().__init__(workers=1, chunking=settings.text_chunking())
        self.settings = settings
        self._placement: Placement | None = None
        self._residency: Residency[M] | None = None
        self._model: M | None = None

    @abstractmethod
    def load_model(self, placement: Placement) -> M:
        """Load the weights onto `placement`; blocking, runs in the worker thread."""

    @property
    def model(self) -> M:
        assert self._model is not None, "render() runs inside synthesize()"
        return self._model

    @property
    def placement(self) -> Placement:
        assert self._placement is not None, "load() first"
        return self._placement

    async def load(self) -> None:
        self._placement = choose_placement(self.settings)
        self._residency = Residency(self._load_seeded, self.settings.idle_unload_s, self._executor)
        await self._residency.load()

    def _load_seeded(self) -> M:
        if self.settings.seed is not None:
            torch.manual_seed(self.settings.seed)
        return self.load_model(self.placement)

    def readiness(self) -> str | None:
        return self._residency.describe() if self._residency is not None else None

    async def synthesize(
        self, request: SynthesisRequest, cancel: CancelSignal
    ) -> AsyncIterator[bytes | Words]:
        assert self._residency is not None, "load() first"
        async with self._residency.use() as model:
            self._model = model
            try:
                async for made in super().synthesize(request, cancel):
                    yield made
            finally:
                self._model = None  # the residency alone holds it, so idle unload frees it

    async def close(self) -> None:
        if self._residency is not None:
            await self._residency.close()
        await super().close()
