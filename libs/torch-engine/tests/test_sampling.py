"""Members' logits processed together give each the probabilities it has alone, and the
codes drawn for all of them at once are those each draws alone."""

from __future__ import annotations

import torch
from transformers import (
    LogitsProcessor,
    LogitsProcessorList,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)
from transformers.generation.logits_process import DiaClassifierFreeGuidanceLogitsProcessor

from chorus_torch import Scores, Shareable, draw, probabilities

SHAREABLE: Shareable = frozenset({TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper})


class BansTheLastToken(LogitsProcessor):
    """Stateful and per member, like a delay pattern: it reads the member's own tokens."""

    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
        scores = scores.clone()
        scores[:, int(input_ids[0, -1])] = -float("inf")
        return scores


class Fails(LogitsProcessor):
    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("this member's processor failed")


def member(seed: int, temperature: float = 0.8, last: int = 3) -> Scores:
    """Two rows of logits, its own processor first, then sampling settings."""
    chain = LogitsProcessorList(
        [
            BansTheLastToken(),
            TemperatureLogitsWarper(temperature),
            TopKLogitsWarper(20),
            TopPLogitsWarper(0.9),
        ]
    )
    logits = torch.randn((2, 64), generator=torch.Generator().manual_seed(seed))
    return Scores(chain, torch.tensor([[1, last]]), logits)


def four_members() -> list[Scores]:
    # Three sample alike, one hotter: two groups.
    return [member(1), member(2, last=5), member(3, temperature=1.2), member(4)]


def test_together_each_member_gets_what_it_gets_alone() -> None:
    members = four_members()
    alone = [probabilities([m], SHAREABLE)[0] for m in four_members()]
    together = probabilities(members, SHAREABLE)
    for mine, reference, scores in zip(together, alone, members, strict=True):
        assert isinstance(mine, torch.Tensor)
        assert isinstance(reference, torch.Tensor)
        assert torch.equal(mine, reference)
        # Its own processor ran on its rows, with its tokens.
        assert bool(mine[:, int(scores.tokens[0, -1])].eq(0).all())


def test_a_failing_member_fails_its_own_group_only() -> None:
    failing = member(1, temperature=0.5)
    failing.processors.append(Fails())
    together = probabilities([failing, member(2)], SHAREABLE)
    assert isinstance(together[0], RuntimeError)
    assert isinstance(together[1], torch.Tensor)


def test_guidance_over_each_members_row_pair_runs_once_and_gives_what_it_gives_alone() -> None:
    paired: Shareable = frozenset({DiaClassifierFreeGuidanceLogitsProcessor})

    def guided(seed: int) -> Scores:
        chain = LogitsProcessorList(
            [DiaClassifierFreeGuidanceLogitsProcessor(3.0, guidance_top_k=8), TopKLogitsWarper(20)]
        )
        # Three channels: its text rows, then its unconditional rows.
        logits = torch.randn((6, 64), generator=torch.Generator().manual_seed(seed))
        return Scores(chain, torch.zeros((3, 1), dtype=torch.long), logits)

    alone = [probabilities([guided(seed)], SHAREABLE, paired)[0] for seed in range(3)]
    together = probabilities([guided(seed) for seed in range(3)], SHAREABLE, paired)
    for mine, reference in zip(together, alone, strict=True):
        assert isinstance(mine, torch.Tensor)
        assert isinstance(reference, torch.Tensor)
        assert mine.shape == (3, 64)
        assert torch.equal(mine, reference)


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
