"""Higgs Audio v2's decoding loop, one step at a time over a batch that changes.

This is `HiggsAudioV2GenerationMixin._sample` cut at its step boundary, per member: the
delay-pattern logits processor, temperature / top-k / top-p, sampling from the member's
own generator, repetition-aware resampling (RAS) over its recent frames, and the text
token that follows each frame (audio, delay, or end). The forward pass of a step is one
for the whole batch: every member feeds back its last frame at its own position, over a
left-padded cache. Text-only prompts that join at once are prefilled in one forward pass,
padded on the left and masked; a prompt with audio in it (a voice reference) runs alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from transformers import (
    DynamicCache,
    HiggsAudioV2ForConditionalGeneration,
    LogitsProcessorList,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)
from transformers.models.higgs_audio_v2.generation_higgs_audio_v2 import (
    HiggsAudioV2DelayPatternLogitsProcessor,
)

from chorus_contracts import SynthesisRequest
from chorus_higgs.delay import DelayPatternReverter
from chorus_torch import (
    Chain,
    Kinds,
    Member,
    PaddedCache,
    Prefilled,
    Scores,
    Stepper,
    cache_argument,
    draw,
    in_groups,
    probabilities,
    rows_of,
)

# Processors that run once over every member's rows; the delay pattern one keeps each
# member's countdowns, stacked for the step.
_KINDS = Kinds(
    shareable=frozenset({TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper}),
    row_state={HiggsAudioV2DelayPatternLogitsProcessor: ("bos_delay_pattern", "eos_delay_pattern")},
)


@dataclass(frozen=True)
class Sampling:
    """How one request samples, and how many steps it may take."""

    temperature: float
    top_k: int
    top_p: float
    ras_window: int
    ras_max_repeat: int
    max_steps: int


@dataclass(kw_only=True)
class HiggsMember(Member):
    """One request's decoding state between steps."""

    generator: torch.Generator
    chain: Chain
    sampling: Sampling
    reverter: DelayPatternReverter
    # The last text tokens (the delay processor reads the tail), the recent frames' codes
    # (RAS), and the frame the next step feeds back at `position`.
    tokens: torch.Tensor
    recent: list[list[int]]
    position: int
    frame: torch.Tensor | None = None
    # Its own cache from the prefill, until the batch's cache takes its rows.
    cache: DynamicCache | None = None


Prompt = Callable[[SynthesisRequest], Mapping[str, torch.Tensor]]
# The processor's inputs of a prompt that is text alone, which can be padded and batched.
_TEXT_ONLY = frozenset({"input_ids", "attention_mask"})


@dataclass(frozen=True)
class HiggsJoining:
    """A request ready to prefill: its processor inputs and how it samples."""

    inputs: Mapping[str, torch.Tensor]
    generator: torch.Generator
    sampling: Sampling

    def batchable(self) -> object:
        """Equal for prompts that may share a prefill (text alone); unique otherwise."""
        return "text" if set(self.inputs) == _TEXT_ONLY else id(self)


class HiggsStepper(Stepper[HiggsMember, HiggsJoining]):
    """Prefills joining requests together, then steps all of them with one forward pass."""

    def __init__(
        self,
        model: HiggsAudioV2ForConditionalGeneration,
        prompt: Prompt,
        sampling: Callable[[SynthesisRequest], Sampling],
    ) -> None:
        """`prompt` makes a request's processor inputs on the model's device."""
        self._model = model
        self._prompt = prompt
        self._sampling = sampling
        config = model.config
        self._k = int(config.num_codebooks)
        self._v = int(config.codebook_size)
        self._stream_bos = int(config.audio_stream_bos_id)
        self._stream_eos = int(config.audio_stream_eos_id)
        self._audio_token = int(config.audio_token_id)
        self._delay_token = int(config.audio_delay_token_id)
        eos = config.eos_token_id
        self._eos_token = eos[0] if isinstance(eos, list) else eos
        self._members: list[HiggsMember] = []
        self._batch = PaddedCache()

    def prepare(self, request: SynthesisRequest, generator: torch.Generator) -> HiggsJoining:
        return HiggsJoining(self._prompt(request), generator, self._sampling(request))

    def prefill(self, joining: Sequence[HiggsJoining]) -> list[Prefilled[HiggsMember]]:
        return in_groups(joining, HiggsJoining.batchable, self._prefill_together)

    def _prefill_together(self, group: list[HiggsJoining]) -> list[Prefilled[HiggsMember]]:
        """One forward pass for the group's prompts, left-padded to the longest."""
        if len(group) == 1:
            inputs = dict(group[0].inputs)
        else:
            width = max(int(j.inputs["input_ids"].shape[1]) for j in group)
            mask = torch.cat([_left_pad(j.inputs["attention_mask"], width) for j in group])
            inputs = {
                "input_ids": torch.cat([_left_pad(j.inputs["input_ids"], width) for j in group]),
                "attention_mask": mask,
                # Each row's positions count from its own first token, as alone.
                "position_ids": (mask.cumsum(dim=-1) - 1).clamp(min=0),
            }
        cache = DynamicCache(config=self._model.config)
        out = self._model(
            **inputs, **cache_argument(self._model, cache), use_cache=True, logits_to_keep=1
        )
        members = [self._member(joining, cache, row) for row, joining in enumerate(group)]
        logits = list(out.logits[:, -1:, :].unbind(0))  # each (1, K * V)
        sampled = self._sampled(members, logits)
        return [made if isinstance(made, Exception) else (member, made) for member, made in sampled]

    def _member(self, joining: HiggsJoining, cache: DynamicCache, row: int) -> HiggsMember:
        """A prefilled request's state, with its own `row` of the prefill's cache."""
        length = int(joining.inputs["input_ids"].shape[1])
        audio = joining.inputs.get("audio_input_ids")
        sampling = joining.sampling
        return HiggsMember(
            budget=sampling.max_steps,
            generator=joining.generator,
            chain=Chain(self._processors(sampling), _KINDS),
            sampling=sampling,
            reverter=DelayPatternReverter(self._k, self._stream_bos, self._stream_eos),
            tokens=joining.inputs["input_ids"][:, -self._k :],
            recent=audio[0, -sampling.ras_window :, :].tolist()
            if audio is not None and sampling.ras_window
            else [],
            position=length,
            # Its own row, without the padding on its left.
            cache=rows_of(cache, slice(row, row + 1), slice(-length, None)),
        )

    def join(self, member: HiggsMember) -> None:
        assert member.cache is not None
        self._batch.add(member.cache)
        member.cache = None  # the batch's cache holds its rows now
        self._members.append(member)

    def leave(self, member: HiggsMember) -> None:
        row = self._members.index(member)
        self._members.pop(row)
        self._batch.remove([row])

    def step(self) -> Sequence[tuple[HiggsMember, torch.Tensor | Exception]]:
        members = list(self._members)
        frames = torch.cat([m.frame for m in members if m.frame is not None])
        positions = torch.tensor([[m.position] for m in members], device=frames.device)
        assert self._batch.cache is not None
        out = self._model(
            audio_input_ids=frames,
            attention_mask=self._batch.grown(),
            position_ids=positions,
            **cache_argument(self._model, self._batch.cache),
            use_cache=True,
            logits_to_keep=1,
        )
        for member in members:
            member.position += 1
        return self._sampled(members, list(out.logits[:, -1:, :].unbind(0)))

    def _sampled(
        self, members: list[HiggsMember], logits: list[torch.Tensor]
    ) -> list[tuple[HiggsMember, torch.Tensor | Exception]]:
        """Each member's next frame drawn from its logits (1, K * V), and the aligned frames it
        completes, or its own error."""
        scores = [Scores(m.chain, m.tokens, mine) for m, mine in zip(members, logits, strict=True)]
        probs = [
            p if isinstance(p, Exception) else p.view(self._k, self._v)
            for p in probabilities(scores)
        ]
        drawn = draw(probs, [member.generator for member in members])
        made: list[tuple[HiggsMember, torch.Tensor | Exception]] = []
        for member, mine, codes in zip(members, logits, drawn, strict=True):
            try:
                if isinstance(codes, Exception):
                    raise codes
                made.append((member, self._advance(member, mine, codes)))
            except Exception as exc:  # this member's sampling only
                made.append((member, exc))
        return made

    def _processors(self, sampling: Sampling) -> LogitsProcessorList:
        return LogitsProcessorList(
            [
                HiggsAudioV2DelayPatternLogitsProcessor(
                    delay_pattern=[k + 1 for k in range(self._k)],
                    audio_bos_token_id=self._model.config.audio_bos_token_id,
                    audio_eos_token_id=self._delay_token,
                    audio_stream_bos_id=self._stream_bos,
                    audio_stream_eos_id=self._stream_eos,
                    num_codebooks=self._k,
                    codebook_size=self._v,
                ),
                TemperatureLogitsWarper(sampling.temperature),
                TopKLogitsWarper(sampling.top_k),
                TopPLogitsWarper(sampling.top_p),
            ]
        )

    def _advance(
        self, member: HiggsMember, logits: torch.Tensor, codes: torch.Tensor
    ) -> torch.Tensor:
        """Take the member's drawn codes (K), its raw logits for RAS; its aligned frames."""
        frame = self._resample_repeats(member, logits, codes.tolist())
        token = self._audio_token
        if self._stream_eos in frame or int(member.tokens[0, -1]) == self._delay_token:
            token = self._delay_token
        if frame.count(self._stream_eos) == self._k and self._eos_token is not None:
            token = self._eos_token
        member.tokens = torch.cat([member.tokens, member.tokens.new_full((1, 1), token)], dim=1)
        member.tokens = member.tokens[:, -self._k :]
        # (1, 1, K), what the next step feeds back
        member.frame = codes.new_tensor(frame).view(1, 1, self._k)
        if member.sampling.ras_window:
            member.recent = [*member.recent, frame][-member.sampling.ras_window :]
        aligned = member.reverter.push(frame)
        member.ended = member.reverter.ended
        return aligned

    def _resample_repeats(
        self, member: HiggsMember, logits: torch.Tensor, frame: list[int]
    ) -> list[int]:
        """Higgs' RAS: a code repeated too often in the window is drawn again, unfiltered.

        The window is a few frames of a few codes, counted in Python: cheaper than the
        handful of tensor operations it would take for each member of every step.
        """
        markers = (self._stream_bos, self._stream_eos)
        # `recent` holds the window's frames alone (none without RAS).
        replace = [
            k
            for k, code in enumerate(frame)
            if code not in markers
            and sum(recent[k] == code for recent in member.recent) >= member.sampling.ras_max_repeat
        ]
        if not replace:
            return frame
        rows = logits.float().view(self._k, self._v)[replace]
        redrawn = torch.multinomial(
            rows.softmax(dim=-1), 1, replacement=True, generator=member.generator
        ).view(-1)
        frame = list(frame)
        for k, code in zip(replace, redrawn.tolist(), strict=True):
            frame[k] = code
        return frame


def _left_pad(rows: torch.Tensor, width: int) -> torch.Tensor:
    """`rows` (1, length) after zeros up to `width`: padding its mask hides."""
    return torch.nn.functional.pad(rows, (width - rows.shape[1], 0))
