"""Logits processors over many batch members at once; each member still draws alone.

A step's members mostly sample alike (same temperature, top-k, top-p). Their stateless,
row-wise processors then run once over all their rows instead of once per member, which
on a small model costs more than the forward pass. A paired processor (classifier-free
guidance: each member's first half of rows against its second) runs once too, over all
members' first halves followed by all their second halves. A processor that reads only how
many tokens a member has (a minimum length) runs once for the members of each length. One
that keeps a state per row (a delay pattern's countdowns) runs once for the members alike,
their states stacked and split back; any other runs per member on its rows. A row's
numbers are the same either way, so a member's audio does not depend on who it was batched
with. The draw takes each member's random numbers from its own generator, then picks every
member's codes in one pass (`draw`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import cast

import torch
from transformers import LogitsProcessor, LogitsProcessorList

# Classes of processors that may run over many members' rows at once.
Shareable = frozenset[type[LogitsProcessor]]


@dataclass(frozen=True)
class Kinds:
    """Which of a model's processor classes run over many members' rows at once.

    `shareable` hold no state and treat each row alone; `paired` treat a member's first
    half of rows against its second (guidance); `by_length` treat each row alone and read
    only the number of tokens, never the tokens.
    """

    shareable: Shareable
    paired: Shareable = frozenset()
    by_length: Shareable = frozenset()
    # Processors that keep state, a tensor per row of the batch they first ran on (named
    # here), made on that first call from the member's own tokens: after it, members of one
    # token length and the same settings run once, their states stacked and split again.
    row_state: Mapping[type[LogitsProcessor], tuple[str, ...]] = field(default_factory=dict)


class _Way(Enum):
    SHARED = "shared"
    PAIRED = "paired"
    BY_LENGTH = "by_length"
    ROW_STATE = "row_state"
    OWN = "own"


# Ways whose settings must match for members to sample together; the others sort their
# members by settings themselves (`_alike`).
_TOGETHER = frozenset({_Way.SHARED, _Way.PAIRED})


class Chain:
    """A member's processors, and how each runs beside other members' processors.

    Made once for a member, as its processors are: grouping members by their settings
    then costs nothing at each step.
    """

    def __init__(self, processors: LogitsProcessorList, kinds: Kinds) -> None:
        self.processors = processors
        self.ways = tuple(_way(processor, kinds) for processor in processors)
        # The state each processor keeps per row (ROW_STATE), and its other settings.
        self.states = tuple(kinds.row_state.get(type(p), ()) for p in processors)
        self.settings = tuple(
            repr(
                sorted(
                    (name, _setting(value)) for name, value in vars(p).items() if name not in state
                )
            )
            for p, state in zip(processors, self.states, strict=True)
        )
        # Equal for chains that may run together: the same classes, and the ones that run
        # over every member's rows set alike. Those that run per number of tokens, or with
        # a state of their own, run together only where their settings match too.
        self.group = repr(
            [
                (type(p).__qualname__, settings if way in _TOGETHER else None)
                for p, way, settings in zip(processors, self.ways, self.settings, strict=True)
            ]
        )


@dataclass(frozen=True)
class Scores:
    """One member's logits for a step and what its processors need."""

    chain: Chain
    tokens: torch.Tensor  # what its processors read as `input_ids`
    logits: torch.Tensor  # (rows, vocab)


def probabilities(members: Sequence[Scores]) -> list[torch.Tensor | Exception]:
    """Each member's next-token probabilities (its processors, then softmax), or its error.

    Members whose chains are in one group are processed together; an error while
    processing a group fails that group's members only.
    """
    made: list[torch.Tensor | Exception] = [RuntimeError("not processed")] * len(members)
    groups: dict[str, list[int]] = {}
    for index, member in enumerate(members):
        groups.setdefault(member.chain.group, []).append(index)
    for indices in groups.values():
        group: list[torch.Tensor | Exception]
        try:
            group = list(_together([members[index] for index in indices]))
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
    valid: list[bool] = (
        ((rows.isfinite() & (rows >= 0)).all(dim=-1) & (rows.sum(dim=-1) > 0)).cpu().tolist()
    )
    first = 0
    for index, picked, size in zip(mine, codes, sizes, strict=True):
        ok = all(valid[first : first + size])
        first += size
        made[index] = picked if ok else ValueError("probabilities that are not a distribution")
    return made


def _together(members: Sequence[Scores]) -> list[torch.Tensor]:
    blocks = [member.logits.float() for member in members]
    first = members[0].chain
    for position, (processor, way) in enumerate(zip(first.processors, first.ways, strict=True)):
        if way is _Way.PAIRED:
            blocks = _paired(processor, blocks)
        elif way is _Way.SHARED:
            blocks = _by_rows(processor, blocks, 0)
        elif way is _Way.BY_LENGTH:
            blocks = _by_length(members, position, blocks)
        elif way is _Way.ROW_STATE:
            blocks = _stacked(members, position, blocks)
        else:
            blocks = [
                _call(member.chain.processors[position], member.tokens, block)
                for member, block in zip(members, blocks, strict=True)
            ]
    sizes = [block.shape[0] for block in blocks]
    return list(torch.split(torch.softmax(torch.cat(blocks), dim=-1), sizes))


def _by_rows(
    processor: LogitsProcessor, blocks: list[torch.Tensor], length: int
) -> list[torch.Tensor]:
    """A processor reading no tokens, or only their number (`length`), over all blocks' rows."""
    rows = torch.cat(blocks)
    made = _call(processor, _tokens(rows, length), rows)
    return list(torch.split(made, [block.shape[0] for block in blocks]))


def _by_length(
    members: Sequence[Scores], position: int, blocks: list[torch.Tensor]
) -> list[torch.Tensor]:
    """A processor reading the number of tokens, once for the members of each number and
    settings."""
    made = list(blocks)
    for (length, _), indices in _alike(members, position, range(len(members))).items():
        processor = members[indices[0]].chain.processors[position]
        done = _by_rows(processor, [blocks[index] for index in indices], length)
        for index, block in zip(indices, done, strict=True):
            made[index] = block
    return made


def _alike(
    members: Sequence[Scores], position: int, indices: Iterable[int]
) -> dict[tuple[int, str], list[int]]:
    """`indices` of members grouped by their number of tokens and their settings of the
    processor at `position`: those that one processor can run for."""
    alike: dict[tuple[int, str], list[int]] = {}
    for index in indices:
        member = members[index]
        key = (int(member.tokens.shape[-1]), member.chain.settings[position])
        alike.setdefault(key, []).append(index)
    return alike


def _stacked(
    members: Sequence[Scores], position: int, blocks: list[torch.Tensor]
) -> list[torch.Tensor]:
    """A processor keeping state per row, once for the members of each token length and
    settings whose state is made: the first member's processor runs on every member's rows
    with every member's state stacked, and each member takes back its rows of the new state.
    A member whose state is not made yet (its first step) runs alone."""
    names = members[0].chain.states[position]
    made = list(blocks)
    ready: list[int] = []
    for index, member in enumerate(members):
        processor = member.chain.processors[position]
        if all(isinstance(getattr(processor, name), torch.Tensor) for name in names):
            ready.append(index)
        else:
            made[index] = _call(processor, member.tokens, blocks[index])
    for indices in _alike(members, position, ready).values():
        processors = [members[index].chain.processors[position] for index in indices]
        lead = processors[0]
        states = {name: [getattr(p, name) for p in processors] for name in names}
        for name, parts in states.items():
            setattr(lead, name, torch.cat(parts))
        rows = torch.cat([blocks[index] for index in indices])
        try:
            done = _call(lead, torch.cat([members[index].tokens for index in indices]), rows)
            stacked = {name: getattr(lead, name) for name in names}
        finally:
            for name, parts in states.items():
                setattr(lead, name, parts[0])
        for name, parts in states.items():
            for processor, mine in zip(
                processors,
                torch.split(stacked[name], [part.shape[0] for part in parts]),
                strict=True,
            ):
                setattr(processor, name, mine)
        # A processor may reshape its rows (Higgs': one row of every codebook to a row each).
        sizes = [done.shape[0] * blocks[index].shape[0] // rows.shape[0] for index in indices]
        for index, block in zip(indices, torch.split(done, sizes), strict=True):
            made[index] = block
    return made


def _paired(processor: LogitsProcessor, blocks: list[torch.Tensor]) -> list[torch.Tensor]:
    """A processor of (first half, second half) rows, once for all: it sees every member's
    first half, then every member's second half, and gives back one row per pair."""
    halves = [block.chunk(2) for block in blocks]
    firsts = [first for first, _ in halves]
    rows = torch.cat(firsts + [second for _, second in halves])
    made = _call(processor, _tokens(torch.cat(firsts), 0), rows)
    return list(torch.split(made, [first.shape[0] for first in firsts]))


def _call(processor: LogitsProcessor, tokens: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    # `LogitsProcessorList.__call__` would inspect each processor's signature per call.
    scores = processor(cast(torch.LongTensor, tokens), scores)
    return scores


def _tokens(rows: torch.Tensor, length: int) -> torch.Tensor:
    """`input_ids` for processors that read no tokens, or only how many there are: the
    shape alone, with no memory behind it (Dia's minimum lengths see thousands of tokens)."""
    return torch.empty((1, 1), dtype=torch.long).expand(rows.shape[0], length)


def _setting(value: object) -> object:
    """A processor's attribute as it is compared: a tensor by every value (its `repr`
    elides the middle of a long one, such as a vocabulary mask)."""
    return value.tolist() if isinstance(value, torch.Tensor) else value


def _way(processor: LogitsProcessor, kinds: Kinds) -> _Way:
    kind = type(processor)
    if kind in kinds.paired:
        return _Way.PAIRED
    if kind in kinds.shareable:
        return _Way.SHARED
    if kind in kinds.by_length:
        return _Way.BY_LENGTH
    if kind in kinds.row_state:
        return _Way.ROW_STATE
    return _Way.OWN
