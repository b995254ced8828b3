"""Dia's decoding loop, one step at a time over a batch that changes.

This is what `DiaForConditionalGeneration.generate` runs, cut at its step boundary, per
member: the encoder once at the prefill, classifier-free guidance as two decoder rows per
member (the text, and the same length of nothing), the model's own logits processors
(built by `_get_logits_processor` for the member's sampling, so guidance, Dia's EOS rules
and its delay pattern are upstream's), sampling from the member's own generator, and the
prompt's delayed codes forced where the processor set them. A step is one decoder forward
pass for every member's rows over left-padded self- and cross-attention caches. Requests
that join at once with decoder prefills of one length (every request without an audio
prompt) are prefilled in one forward pass, their texts padded on the right and masked.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import torch
from transformers import (
    DiaEncoderConfig,
    DiaForConditionalGeneration,
    DynamicCache,
    EncoderDecoderCache,
    LogitsProcessorList,
    MinLengthLogitsProcessor,
    MinNewTokensLengthLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)
from transformers.generation.logits_process import (
    DiaClassifierFreeGuidanceLogitsProcessor,
    DiaEOSChannelFilterLogitsProcessor,
    DiaEOSDelayPatternLogitsProcessor,
)

from chorus_contracts import SynthesisRequest
from chorus_dia.frames import StaggeredFrames
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

# Dia's processors that run once over every member's rows; guidance runs once over every
# member's pair of text and unconditional rows; the minimum lengths once for the members of
# each length; the EOS delay one keeps each member's countdown, stacked for the step.
_KINDS = Kinds(
    shareable=frozenset(
        {
            DiaEOSChannelFilterLogitsProcessor,
            TemperatureLogitsWarper,
            TopKLogitsWarper,
            TopPLogitsWarper,
        }
    ),
    paired=frozenset({DiaClassifierFreeGuidanceLogitsProcessor}),
    by_length=frozenset({MinLengthLogitsProcessor, MinNewTokensLengthLogitsProcessor}),
    row_state={DiaEOSDelayPatternLogitsProcessor: ("delay_pattern", "active_batches")},
)


@dataclass(frozen=True)
class DiaPrompt:
    """A request as Dia's processor makes it: text ids, the delayed decoder prefill."""

    input_ids: torch.Tensor  # (1, text)
    attention_mask: torch.Tensor  # (1, text)
    decoder_input_ids: torch.Tensor  # (1, positions, channels), delayed, pad where free
    prompt_frames: int  # frames of an audio prompt, not released as audio
    max_new_tokens: int
    sampling: Mapping[str, Any]  # temperature, top_p, top_k, guidance_scale overrides


@dataclass(kw_only=True)
class DiaMember(Member):
    """One request's decoding state between steps."""

    generator: torch.Generator
    chain: Chain
    frames: StaggeredFrames
    forced: torch.Tensor  # (positions, channels): the prefill's codes, pad where free
    history: torch.Tensor  # (channels, steps) of codes, as generate's input_ids
    rows: int  # 2 with guidance (text, unconditional), else 1
    position: int
    self_cache: DynamicCache | None = None
    cross_cache: DynamicCache | None = None
    cross_mask: torch.Tensor | None = None


@dataclass(frozen=True)
class DiaJoining:
    """A request ready to prefill: its prompt and how it samples."""

    prompt: DiaPrompt
    generator: torch.Generator
    chain: Chain
    rows: int  # 2 with guidance (text, unconditional), else 1
    prefill: int  # decoder positions before the first free one


class DiaStepper(Stepper[DiaMember, DiaJoining]):
    """Prefills joining requests together, then steps all of them with one forward pass."""

    def __init__(
        self,
        model: DiaForConditionalGeneration,
        prompt: Callable[[SynthesisRequest], DiaPrompt],
        pad_id: int,
        eos_id: int,
    ) -> None:
        self._model = model
        self._prompt = prompt
        self._pad_id = pad_id
        self._eos_id = eos_id
        self._delays = list(model.config.delay_pattern or [])
        self._channels = len(self._delays)  # one delay per codebook channel
        encoder = model.config.encoder_config
        assert isinstance(encoder, DiaEncoderConfig)
        self._encoder_width = encoder.hidden_size
        self._members: list[DiaMember] = []
        self._generation_config = functools.lru_cache(maxsize=64)(self._prepared_config)
        self._self = PaddedCache()
        self._cross = PaddedCache()

    def prepare(self, request: SynthesisRequest, generator: torch.Generator) -> DiaJoining:
        prompt = self._prompt(request)
        delayed = prompt.decoder_input_ids
        # As generate: the prefill is the positions before the first free (pad) one.
        valid = int(delayed.shape[1] - (delayed[:, :, 0] == self._pad_id).sum(dim=-1).max())
        processors, guided = self._processors(prompt, valid)
        return DiaJoining(prompt, generator, Chain(processors, _KINDS), 2 if guided else 1, valid)

    def prefill(self, joining: Sequence[DiaJoining]) -> list[Prefilled[DiaMember]]:
        return in_groups(joining, lambda j: j.prefill, self._prefill_together)

    def _prefill_together(self, group: list[DiaJoining]) -> list[Prefilled[DiaMember]]:
        """One forward pass for requests whose decoder prefills have one length."""
        texts, masks = [], []
        for joining in group:
            text, mask = joining.prompt.input_ids, joining.prompt.attention_mask
            if joining.rows == 2:
                text = torch.cat([text, torch.zeros_like(text)])
                mask = mask.repeat(2, 1)
            texts.append(text)
            masks.append(mask)
        width = max(text.shape[1] for text in texts)
        cache = EncoderDecoderCache(
            DynamicCache(config=self._model.config), DynamicCache(config=self._model.config)
        )
        out = self._model(
            input_ids=torch.cat([_right_pad(text, width) for text in texts]),
            attention_mask=torch.cat([_right_pad(mask, width) for mask in masks]),
            decoder_input_ids=torch.cat(
                [j.prompt.decoder_input_ids[:, : j.prefill].repeat(j.rows, 1, 1) for j in group]
            ),
            **cache_argument(self._model, cache),
            use_cache=True,
        )
        members: list[DiaMember] = []
        scores: list[Scores] = []
        row = 0
        for joining, mask in zip(group, masks, strict=True):
            rows = slice(row, row + joining.rows)
            member = self._member(joining, cache, rows, mask)
            logits = out.logits[row * self._channels : rows.stop * self._channels, -1, :]
            scores.append(self._scores(member, logits))
            members.append(member)
            row = rows.stop
        sampled = self._sampled(members, probabilities(scores))
        return [made if isinstance(made, Exception) else (member, made) for member, made in sampled]

    def _member(
        self, joining: DiaJoining, cache: EncoderDecoderCache, rows: slice, mask: torch.Tensor
    ) -> DiaMember:
        """A prefilled request's state, with its own `rows` of the prefill's caches."""
        delayed = joining.prompt.decoder_input_ids
        return DiaMember(
            budget=joining.prompt.max_new_tokens,
            generator=joining.generator,
            chain=joining.chain,
            frames=StaggeredFrames(
                delayed[0].cpu(),
                joining.prompt.prompt_frames,
                self._delays,
                self._pad_id,
                self._eos_id,
            ),
            forced=delayed[0],
            history=delayed[0, : joining.prefill].T.contiguous(),
            rows=joining.rows,
            position=joining.prefill,
            self_cache=rows_of(cache.self_attention_cache, rows),
            # The cross-attention keys of its own text, without the padding.
            cross_cache=rows_of(cache.cross_attention_cache, rows, slice(0, mask.shape[1])),
            cross_mask=mask,
        )

    def join(self, member: DiaMember) -> None:
        assert member.self_cache is not None
        assert member.cross_cache is not None
        self._self.add(member.self_cache)
        self._cross.add(member.cross_cache, member.cross_mask)
        member.self_cache = member.cross_cache = member.cross_mask = None
        self._members.append(member)

    def leave(self, member: DiaMember) -> None:
        index = self._members.index(member)
        first = sum(m.rows for m in self._members[:index])
        rows = list(range(first, first + member.rows))
        self._members.pop(index)
        self._self.remove(rows)
        self._cross.remove(rows)

    def step(self) -> Sequence[tuple[DiaMember, torch.Tensor | Exception]]:
        members = list(self._members)
        codes = torch.cat([m.history[:, -1:].T.repeat(m.rows, 1) for m in members])
        positions = torch.tensor(
            [[m.position] for m in members for _ in range(m.rows)], device=codes.device
        )
        assert self._self.cache is not None
        assert self._cross.cache is not None
        encoder_mask = self._cross.mask
        # The cross-attention keys are cached; the encoder states only give the shapes.
        encoder_states = torch.zeros((1, 1, 1), dtype=self._model.dtype, device=codes.device)
        encoder_states = encoder_states.expand(*encoder_mask.shape, self._encoder_width)
        out = self._model(
            encoder_outputs=(encoder_states,),
            attention_mask=encoder_mask,
            decoder_input_ids=codes.unsqueeze(1),
            decoder_attention_mask=self._self.grown(),
            decoder_position_ids=positions,
            **cache_argument(self._model, EncoderDecoderCache(self._self.cache, self._cross.cache)),
            use_cache=True,
        )
        logits = out.logits[:, -1, :]  # (rows * channels, vocab)
        scores: list[Scores] = []
        row = 0
        for member in members:
            mine = logits[row * self._channels : (row + member.rows) * self._channels]
            row += member.rows
            member.position += 1
            scores.append(self._scores(member, mine))
        return self._sampled(members, probabilities(scores))

    def _sampled(
        self, members: list[DiaMember], probs: list[torch.Tensor | Exception]
    ) -> list[tuple[DiaMember, torch.Tensor | Exception]]:
        """Each member's codes drawn, and the frames they complete, or its own error."""
        drawn = draw(probs, [member.generator for member in members])
        made: list[tuple[DiaMember, torch.Tensor | Exception]] = []
        for member, codes in zip(members, drawn, strict=True):
            try:
                if isinstance(codes, Exception):
                    raise codes
                made.append((member, self._advance(member, codes)))
            except Exception as exc:  # this member's sampling only
                made.append((member, exc))
        return made

    def _processors(self, prompt: DiaPrompt, prefill: int) -> tuple[LogitsProcessorList, bool]:
        """The processors generate would build for this request, and whether it guides."""
        # A copy of its own: Dia's `_get_logits_processor` sets and restores the guidance
        # scale and temperature on the configuration it is given, which other requests'
        # threads read meanwhile.
        config = copy.copy(
            self._generation_config(
                prompt.max_new_tokens, tuple(sorted(prompt.sampling.items())), prefill
            )
        )
        guided = config.guidance_scale is not None and config.guidance_scale != 1
        processors = cast(Any, self._model)._get_logits_processor(
            generation_config=config,
            input_ids_seq_length=prefill,
            encoder_input_ids=prompt.input_ids,
            logits_processor=LogitsProcessorList(),
            device=str(self._model.device),
            model_kwargs={},
        )
        return processors, guided

    def _prepared_config(
        self, max_new_tokens: int, sampling: tuple[tuple[str, Any], ...], prefill: int
    ) -> Any:
        """generate's configuration for a request sampling so, made as generate makes it.

        Requests mostly sample alike, and making it (upstream deep-copies the model's) is
        most of a request's preparation: `_generation_config` keeps the recent ones.
        """
        # generate's own preparation steps; private, so typed loosely upstream.
        model = cast(Any, self._model)
        config, _ = model._prepare_generation_config(
            None, max_new_tokens=max_new_tokens, **dict(sampling)
        )
        model._prepare_special_tokens(config, False, device=self._model.device)
        return model._prepare_generated_length(
            generation_config=config,
            # As generate has it when the caller names max_new_tokens and not max_length.
            has_default_max_length=True,
            has_default_min_length=True,
            model_input_name="input_ids",
            inputs_tensor=None,
            input_ids_length=prefill,
        )

    @staticmethod
    def _scores(member: DiaMember, logits: torch.Tensor) -> Scores:
        return Scores(member.chain, member.history, logits)

    def _advance(self, member: DiaMember, codes: torch.Tensor) -> torch.Tensor:
        """Take the member's drawn codes (one per channel); the frames they complete."""
        step = member.history.shape[1]
        if step < member.forced.shape[0]:
            forced = member.forced[step]
            codes = torch.where(forced != self._pad_id, forced, codes)
        member.history = torch.cat([member.history, codes.unsqueeze(1)], dim=1)
        frames = member.frames.step(codes.cpu())
        member.ended = member.frames.ended
        return frames


def _right_pad(rows: torch.Tensor, width: int) -> torch.Tensor:
    """`rows` (n, length) with zeros after them up to `width`: padding its mask hides."""
    return torch.nn.functional.pad(rows, (0, width - rows.shape[1]))
