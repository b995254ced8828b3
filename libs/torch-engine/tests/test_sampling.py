"""Members' logits processed together give each the probabilities it has alone, and the
codes drawn for all of them at once are those each draws alone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from transformers import (
    LogitsProcessor,
    LogitsProcessorList,
    MinLengthLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)
from transformers.generation.logits_process import (
    DiaClassifierFreeGuidanceLogitsProcessor,
    DiaEOSDelayPatternLogitsProcessor,
)

from chorus_torch import Chain, Kinds, Scores, draw, probabilities

KINDS = Kinds(shareable=frozenset({TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper}))


class BansTheLastToken(LogitsProcessor):
    """Stateful and per member, like a delay pattern: it reads the member's own tokens."""

    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
        scores = scores.clone()
        scores[:, int(input_ids[0, -1])] = -float("inf")
        return scores


@dataclass
class Calls:
    count: int = 0


@contextmanager
def counted(kind: type[LogitsProcessor]) -> Iterator[Calls]:
    """Counts the calls of a processor class's instances while the block runs."""
    calls = Calls()
    original = kind.__call__

    def counting(*args: Any) -> torch.Tensor:
        calls.count += 1
        made: torch.Tensor = original(*args)
        return made

    kind.__call__ = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        kind.__call__ = original  # type: ignore[method-assign]


class Fails(LogitsProcessor):
    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("this member's processor failed")


def member(seed: int, temperature: float = 0.8, last: int = 3, fails: bool = False) -> Scores:
    """Two rows of logits, its own processor first, then sampling settings."""
    processors = LogitsProcessorList(
        [
            BansTheLastToken(),
            TemperatureLogitsWarper(temperature),
            TopKLogitsWarper(20),
            TopPLogitsWarper(0.9),
            *([Fails()] if fails else []),
        ]
    )
    logits = torch.randn((2, 64), generator=torch.Generator().manual_seed(seed))
    return Scores(Chain(processors, KINDS), torch.tensor([[1, last]]), logits)


def four_members() -> list[Scores]:
    # Three sample alike, one hotter: two groups.
    return [member(1), member(2, last=5), member(3, temperature=1.2), member(4)]


def test_together_each_member_gets_what_it_gets_alone() -> None:
    members = four_members()
    alone = [probabilities([m])[0] for m in four_members()]
    together = probabilities(members)
    for mine, reference, scores in zip(together, alone, members, strict=True):
        assert isinstance(mine, torch.Tensor)
        assert isinstance(reference, torch.Tensor)
        assert torch.equal(mine, reference)
        # Its own processor ran on its rows, with its tokens.
        assert bool(mine[:, int(scores.tokens[0, -1])].eq(0).all())


def test_a_failing_member_fails_its_own_group_only() -> None:
    failing = member(1, temperature=0.5, fails=True)
    together = probabilities([failing, member(2)])
    assert isinstance(together[0], RuntimeError)
    assert isinstance(together[1], torch.Tensor)


def test_guidance_over_each_members_row_pair_runs_once_and_gives_what_it_gives_alone() -> None:
    kinds = Kinds(KINDS.shareable, paired=frozenset({DiaClassifierFreeGuidanceLogitsProcessor}))

    def guided(seed: int) -> Scores:
        processors = LogitsProcessorList(
            [DiaClassifierFreeGuidanceLogitsProcessor(3.0, guidance_top_k=8), TopKLogitsWarper(20)]
        )
        # Three channels: its text rows, then its unconditional rows.
        logits = torch.randn((6, 64), generator=torch.Generator().manual_seed(seed))
        return Scores(Chain(processors, kinds), torch.zeros((3, 1), dtype=torch.long), logits)

    alone = [probabilities([guided(seed)])[0] for seed in range(3)]
    together = probabilities([guided(seed) for seed in range(3)])
    for mine, reference in zip(together, alone, strict=True):
        assert isinstance(mine, torch.Tensor)
        assert isinstance(reference, torch.Tensor)
        assert mine.shape == (3, 64)
        assert torch.equal(mine, reference)


def test_a_minimum_length_runs_once_per_length_and_holds_back_the_end_for_the_short_only() -> None:
    end = 7
    kinds = Kinds(KINDS.shareable, by_length=frozenset({MinLengthLogitsProcessor}))

    def with_tokens(seed: int, length: int, minimum: int) -> Scores:
        processors = LogitsProcessorList(
            [MinLengthLogitsProcessor(minimum, end), TopKLogitsWarper(20)]
        )
        logits = torch.randn((2, 64), generator=torch.Generator().manual_seed(seed))
        logits[:, end] = 10.0  # the end is the likeliest code unless held back
        tokens = torch.ones((2, length), dtype=torch.long)
        return Scores(Chain(processors, kinds), tokens, logits)

    # (tokens, minimum length): the last member's minimum is its own (a longer prompt's).
    members = [(2, 4), (5, 4), (2, 4), (6, 4), (2, 3)]
    alone = [probabilities([with_tokens(seed, *m)])[0] for seed, m in enumerate(members)]
    with counted(MinLengthLogitsProcessor) as calls, counted(TopKLogitsWarper) as shared:
        together = probabilities([with_tokens(seed, *m) for seed, m in enumerate(members)])
    assert calls.count == 4  # lengths 2, 5 and 6 with a minimum of 4; 2 with a minimum of 3
    assert shared.count == 1  # all of them sample alike otherwise: one group
    for mine, reference, (length, minimum) in zip(together, alone, members, strict=True):
        assert isinstance(mine, torch.Tensor)
        assert isinstance(reference, torch.Tensor)
        assert torch.equal(mine, reference)
        # Under the minimum length the end cannot be drawn; past it, it is the likeliest.
        assert bool(mine[:, end].eq(0).all()) == (length < minimum)


def test_a_processor_with_state_per_row_runs_once_for_members_alike_and_keeps_each_state() -> None:
    eos, channels = 9, 3
    kinds = Kinds(
        KINDS.shareable,
        row_state={DiaEOSDelayPatternLogitsProcessor: ("delay_pattern", "active_batches")},
    )

    def chain(max_length: int) -> Chain:
        countdown = DiaEOSDelayPatternLogitsProcessor([0, 2, 3], eos, max_length)
        return Chain(LogitsProcessorList([countdown, TopKLogitsWarper(20)]), kinds)

    # The third member's budget differs: its own settings, so never stacked with the others.
    budgets = [100, 100, 50]
    alone = [chain(budget) for budget in budgets]
    together = [chain(budget) for budget in budgets]
    for step in range(6):
        tokens = torch.zeros((channels, 2 + step), dtype=torch.long)
        logits = [
            torch.randn((channels, 64), generator=torch.Generator().manual_seed(10 * step + m))
            for m in range(3)
        ]
        if step == 1:
            logits[1][0, eos] = 50.0  # the second member ends: its countdown starts
        expected = [
            probabilities([Scores(c, tokens, mine.clone())])[0]
            for c, mine in zip(alone, logits, strict=True)
        ]
        with counted(DiaEOSDelayPatternLogitsProcessor) as calls:
            got = probabilities(
                [Scores(c, tokens, mine.clone()) for c, mine in zip(together, logits, strict=True)]
            )
        # The first step makes each member's state alone; then two members stack.
        assert calls.count == (3 if step == 0 else 2)
        for mine, reference in zip(got, expected, strict=True):
            assert isinstance(mine, torch.Tensor)
            assert isinstance(reference, torch.Tensor)
            assert torch.equal(mine, reference)
    for batched, single in zip(together, alone, strict=True):
        for name in ("delay_pattern", "active_batches"):
            assert torch.equal(
                getattr(batched.processors[0], name), getattr(single.processors[0], name)
            )
    # The ended member's delayed channels counted down, and only its own.
    assert together[1].processors[0].active_batches.tolist() == [True]
    assert together[0].processors[0].active_batches.tolist() == [False]
    assert together[1].processors[0].delay_pattern.tolist() == [[-5, -3, -2]]


def test_drawing_for_all_members_at_once_gives_what_multinomial_gives_each_alone() -> None:
    torch.manual_seed(0)
    probs = [torch.softmax(torch.randn(rows, 1028) * 3, dim=-1) for rows in (6, 3, 6, 1)]
    together = [torch.Generator().manual_seed(7 + member) for member in range(4)]
    alone = [torch.Generator().manual_seed(7 + member) for member in range(4)]
    for _ in range(20):
        drawn = draw(list(probs), together)
        expected = [
            torch.multinomial(p, 1, generator=g).view(-1) for p, g in zip(probs, alone, strict=True)
        ]
        assert all(
            isinstance(d, torch.Tensor) and torch.equal(d, e)
            for d, e in zip(drawn, expected, strict=True)
        )


def test_a_member_whose_probabilities_are_not_a_distribution_fails_alone() -> None:
    fine = torch.softmax(torch.randn(2, 16), dim=-1)
    broken = torch.full((2, 16), float("nan"))
    failed = RuntimeError("its processors failed")
    generators = [torch.Generator().manual_seed(7) for _ in range(3)]
    drawn = draw([fine, broken, failed], generators)
    assert isinstance(drawn[0], torch.Tensor)
    assert drawn[0].shape == (2,)
    assert isinstance(drawn[1], ValueError)
    assert drawn[2] is failed
