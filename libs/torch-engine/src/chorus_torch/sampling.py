"""Logits processors over many batch members at once; each member still draws alone.

A step's members mostly sample alike (same temperature, top-k, top-p). Their stateless,
row-wise processors then run once over all their rows instead of once per member, which
on a small model costs more than the forward pass. A paired processor (classifier-free
guidance: each member's first half of rows against its second) runs once too, over all
members' first halves followed by all their second halves. Processors that keep state or
read a member's own tokens (delay patterns) run per member on its rows. A row's numbers
are the same either way, so a member's audio does not depend on who it was batched with.
The draw takes each member's random numbers from its own
generator, then picks every member's codes in one pass (`draw`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import torch
from transformers import LogitsProcessor, LogitsProcessorList

# Classes of processors that hold no state and treat each row alone.
Shareable = frozenset[type[LogitsProcessor]]


@dataclass(frozen=True)
class Scores:
    """One member's logits for a step and what its processors need."""

    processors: LogitsProcessorList
    tokens: torch.Tensor  # what its processors read as `input_ids`
    logits: torch.Tensor  # (rows, vocab)


def probabilities(
    members: Sequence[Scores], shareable: Shareable, paired: Shareable = frozenset()
) -> list[torch.Tensor | Exception]:
    """Each member's next-token probabilities (its processors, then softmax), or its error.

    Members whose shareable and paired processors have the same settings are processed
    together; an error while processing a group fails that group's members only.
    """
    made: list[torch.Tensor | Exception] = [RuntimeError("not processed")] * len(members)
    groups: dict[str, list[int]] = {}
    for index, member in enumerate(members):
        groups.setdefault(_settings(member.processors, shareable | paired), []).append(index)
    for indices in groups.values():
        group: list[torch.Tensor | Exception]
        try:
            group = list(_together([members[index] for index in indices], shareable, paired))
        except Exception as exc:  # that group's sampling only
            group = [exc] * len(indices)
        for index, probs in zip(indices, group, strict=True):
            made[index] = probs
    return made


def draw(
    probs: Sequence[torch.Tensor | Exception], generators: Sequence[torch.Generator]
) -> list[torch.Tensor | Exception]:
    """One code per row of each member's probabilities (rows, vocab), from its own generator;
    a member whose probabilities are already an error, or are not a distribution, fails alone.

    This is what `torch.multinomial(p, 1)` does, with the same numbers from the same
    generator (noise q ~ Exp(1) per entry, then argmax of p / q), but with one division and
    one argmax for every member and one look at the host for all of their checks.
    """
    made: list[torch.Tensor | Exception] = list(probs)
    mine = [index for index, p in enumerate(probs) if isinstance(p, torch.Tensor)]
    if not mine:
        return made
    rows = torch.cat([cast(torch.Tensor, probs[index]) for index in mine])
    noise = torch.empty_like(rows)
    sizes = [cast(torch.Tensor, probs[index]).shape[0] for index in mine]
    for block, index in zip(torch.split(noise, sizes), mine, strict=True):
        block.exponential_(1, generator=generators[index])
    codes = torch.split(torch.argmax(rows / noise, dim=-1), sizes)
    valid = (rows.isfinite() & (rows >= 0)).all(dim=-1) & (rows.sum(dim=-1) > 0)
    checks = [bool(ok.all()) for ok in torch.split(valid.cpu(), sizes)]
    for index, picked, ok in zip(mine, codes, checks, strict=True):
        made[index] = picked if ok else ValueError("probabilities that are not a distribution")
    return made


def _together(
    members: Sequence[Scores], shareable: Shareable, paired: Shareable
) -> list[torch.Tensor]:
    blocks = [member.logits.float() for member in members]
    for position, processor in enumerate(members[0].processors):
        if type(processor) in paired:
            blocks = _paired(processor, blocks)
        elif type(processor) in shareable:
            sizes = [block.shape[0] for block in blocks]
            rows = torch.cat(blocks)
            blocks = list(torch.split(_call(processor, _no_tokens(rows), rows), sizes))
        else:
            blocks = [
                _call(member.processors[position], member.tokens, block)
                for member, block in zip(members, blocks, strict=True)
            ]
    sizes = [block.shape[0] for block in blocks]
    return list(torch.split(torch.softmax(torch.cat(blocks), dim=-1), sizes))


def _paired(processor: LogitsProcessor, blocks: list[torch.Tensor]) -> list[torch.Tensor]:
    """A processor of (first half, second half) rows, once for all: it sees every member's
    first half, then every member's second half, and gives back one row per pair."""
    halves = [block.chunk(2) for block in blocks]
    firsts = [first for first, _ in halves]
    rows = torch.cat(firsts + [second for _, second in halves])
    made = _call(processor, _no_tokens(torch.cat(firsts)), rows)
    return list(torch.split(made, [first.shape[0] for first in firsts]))


def _call(processor: LogitsProcessor, tokens: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    # `LogitsProcessorList.__call__` would inspect each processor's signature per call.
    scores = processor(cast(torch.LongTensor, tokens), scores)
    return scores


def _no_tokens(rows: torch.Tensor) -> torch.Tensor:
    """`input_ids` for shareable processors, which never read them."""
    return torch.empty((rows.shape[0], 0), dtype=torch.long)


def _settings(processors: LogitsProcessorList, shareable: Shareable) -> str:
    """A key equal for chains that may run together: the same classes, and the shareable
    ones set alike (their attributes are plain numbers)."""
    return repr(
        [
            (type(p).__qualname__, sorted(vars(p).items()) if type(p) in shareable else None)
            for p in processors
        ]
    )
