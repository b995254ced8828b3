"""The batcher's rules: who joins and leaves a step, budgets, cancels, errors, bounds.

The stepper here is a counting model (each member's frame at step n is [n, its id]) that
records which members each shared step ran; the providers' own tests run Dia and Higgs
through the same batcher with their real (tiny) models.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
import torch
from transformers import StoppingCriteriaList

from chorus_contracts import InvalidRequest, ProviderBusy, SynthesisRequest
from chorus_provider.cancel import CancelSignal
from chorus_torch import Batcher, CancelCriteria, Member, Stepper, Turns
from chorus_torch.batching import GATHER_S, Prefilled, in_groups

TIMEOUT_S = 30


@dataclass(kw_only=True)
class Counted(Member):
    name: str
    fail_at: int | None


class CountingStepper(Stepper[Counted, SynthesisRequest]):
    """One frame per step per member; `extra` sets a member's name, budget and failure."""

    def __init__(self, on_step: Callable[[list[str]], None] = lambda names: None) -> None:
        self.members: list[Counted] = []
        self.forward_fails_at: int | None = None  # a step whose shared forward pass raises
        self.steps: list[list[str]] = []  # the members each shared step ran
        self.prefills: list[list[str]] = []  # the requests each prefill call ran together
        self.held: dict[str, threading.Event] = {}  # requests whose prepare waits for these
        self.preparing = threading.Event()  # set when a held request's prepare has begun
        self._on_step = on_step

    def prepare(self, request: SynthesisRequest, generator: torch.Generator) -> SynthesisRequest:
        if (held := self.held.get(request.text)) is not None:
            self.preparing.set()
            assert held.wait(TIMEOUT_S)
        if request.extra.get("bad_request"):
            raise InvalidRequest("this request is refused before it takes a place")
        return request

    def prefill(self, joining: Sequence[SynthesisRequest]) -> list[Prefilled[Counted]]:
        self.prefills.append([request.text for request in joining])
        made: list[Prefilled[Counted]] = []
        for request in joining:
            if request.extra.get("bad_prompt"):
                made.append(InvalidRequest("this prompt cannot be prefilled"))
                continue
            member = Counted(
                budget=int(request.extra.get("budget", 10)),
                name=request.text,
                fail_at=request.extra.get("fail_at"),
            )
            made.append((member, torch.tensor([[0, len(self.steps)]])))
        return made

    def join(self, member: Counted) -> None:
        self.members.append(member)

    def leave(self, member: Counted) -> None:
        self.members.remove(member)

    def step(self) -> Sequence[tuple[Counted, torch.Tensor | Exception]]:
        names = [m.name for m in self.members]
        self.steps.append(names)
        self._on_step(names)
        if self.forward_fails_at == len(self.steps):
            raise RuntimeError("out of memory")
        made: list[tuple[Counted, torch.Tensor | Exception]] = []
        for member in self.members:
            if member.fail_at == member.steps:
                made.append((member, RuntimeError(f"{member.name} failed at {member.steps}")))
            else:
                made.append((member, torch.tensor([[member.steps, 0]])))
        return made


class Request:
    """One request run by the batcher in a thread of its own, as the engine runs it."""

    def __init__(
        self, batcher: Batcher[Counted, SynthesisRequest], name: str, **extra: object
    ) -> None:
        self.frames: list[torch.Tensor] = []
        self.cancel = CancelSignal()
        self.error: BaseException | None = None
        self.member: Member | None = None
        request = SynthesisRequest(text=name, voice="v", extra=extra)
        stop = StoppingCriteriaList([CancelCriteria(self.cancel)])

        def run() -> None:
            try:
                self.member = batcher.run(request, self.frames.append, stop)
            except BaseException as exc:
                self.error = exc

        self._thread = threading.Thread(target=run)
        self._thread.start()

    def wait(self) -> Request:
        self._thread.join(TIMEOUT_S)
        assert not self._thread.is_alive(), "the request never finished"
        return self


def batcher_of(
    stepper: CountingStepper, max_batch: int = 8, max_waiting: int = 8, gather_s: float = GATHER_S
) -> Batcher[Counted, SynthesisRequest]:
    return Batcher(stepper, max_batch, max_waiting, torch.device("cpu"), gather_s=gather_s)


def test_a_request_arriving_mid_generation_joins_the_next_step_and_leaves_when_done() -> None:
    late: list[Request] = []

    def send_b_during_step_3(names: list[str]) -> None:
        if len(stepper.steps) == 3:
            late.append(Request(batcher, "b", budget=4))
            _wait_for(lambda: batcher.waiting == 1)

    stepper = CountingStepper(send_b_during_step_3)
    batcher = batcher_of(stepper)
    first = Request(batcher, "a", budget=10).wait()
    late[0].wait()
    # a prefills (its first frame) and steps alone; b joins after step 3, makes its four
    # frames (its prefill and three shared steps) and leaves; a goes on alone to its budget.
    assert stepper.steps == [["a"]] * 3 + [["a", "b"]] * 3 + [["a"]] * 3
    assert len(first.frames) == 10
    assert len(late[0].frames) == 4


def test_each_member_stops_at_its_own_token_budget() -> None:
    batcher = batcher_of(CountingStepper())
    requests = [Request(batcher, name, budget=budget) for name, budget in [("a", 3), ("b", 7)]]
    assert [len(r.wait().frames) for r in requests] == [3, 7]
    assert [r.member.steps for r in requests if r.member] == [3, 7]


def test_a_cancelled_member_leaves_within_a_step_and_the_others_go_on() -> None:
    requests: dict[str, Request] = {}

    def cancel_a_at_step_5(names: list[str]) -> None:
        if len(stepper.steps) == 5:
            _wait_for(lambda: "a" in requests)  # a busy machine may step before it is kept
            requests["a"].cancel.set()

    stepper = CountingStepper(cancel_a_at_step_5)
    batcher = batcher_of(stepper)
    requests["a"] = Request(batcher, "a", budget=1000)
    requests["b"] = Request(batcher, "b", budget=20)
    requests["a"].wait()
    requests["b"].wait()
    assert requests["a"].error is None  # leaving is not a failure; the stream just ends
    assert all("a" not in names for names in stepper.steps[5:])
    assert len(requests["a"].frames) <= 6
    assert len(requests["b"].frames) == 20


def test_a_member_whose_step_fails_fails_alone() -> None:
    stepper = CountingStepper()
    batcher = batcher_of(stepper)
    failing = Request(batcher, "a", budget=10, fail_at=3)
    fine = Request(batcher, "b", budget=10)
    assert isinstance(failing.wait().error, RuntimeError)
    assert fine.wait().error is None
    assert len(fine.frames) == 10


def test_a_failed_forward_pass_fails_its_members_and_the_next_requests_run() -> None:
    stepper = CountingStepper()
    stepper.forward_fails_at = 3
    batcher = batcher_of(stepper)
    failed = Request(batcher, "a", budget=10).wait()
    assert isinstance(failed.error, RuntimeError)
    after = Request(batcher, "b", budget=4).wait()
    assert after.error is None
    assert len(after.frames) == 4


def test_a_prompt_that_cannot_be_prefilled_fails_its_request_only() -> None:
    stepper = CountingStepper()
    batcher = batcher_of(stepper)
    bad = Request(batcher, "a", bad_prompt=True)
    good = Request(batcher, "b", budget=5)
    assert isinstance(bad.wait().error, InvalidRequest)
    assert good.wait().error is None
    assert len(good.frames) == 5


def test_a_request_its_stepper_refuses_fails_before_taking_a_place() -> None:
    stepper = CountingStepper()
    batcher = batcher_of(stepper)
    refused = Request(batcher, "a", bad_request=True).wait()
    assert isinstance(refused.error, InvalidRequest)
    assert stepper.prefills == []
    assert Request(batcher, "b", budget=3).wait().error is None


def test_the_batch_and_its_queue_are_bounded_and_beyond_them_a_request_is_busy() -> None:
    held, release = threading.Event(), threading.Event()

    def hold_the_first_full_step(names: list[str]) -> None:
        if len(names) == 2 and not held.is_set():
            held.set()
            release.wait(TIMEOUT_S)

    stepper = CountingStepper(hold_the_first_full_step)
    batcher = batcher_of(stepper, max_batch=2, max_waiting=1)
    running = [Request(batcher, "a", budget=1000), Request(batcher, "b", budget=1000)]
    assert held.wait(TIMEOUT_S)
    assert batcher.batch_size == 2
    queued = Request(batcher, "c", budget=1000)
    _wait_for(lambda: batcher.waiting == 1)
    refused = Request(batcher, "d", budget=5).wait()
    assert isinstance(refused.error, ProviderBusy)
    release.set()
    assert [len(r.wait().frames) for r in [*running, queued]] == [1000] * 3
    assert max(len(names) for names in stepper.steps) == 2


def _wait_for(condition: Callable[[], bool]) -> None:
    """Wait for a state another thread reaches (not for time to pass)."""
    done = threading.Event()
    for _ in range(TIMEOUT_S * 100):
        if condition():
            return
        done.wait(0.01)
    pytest.fail("the condition never held")


def test_requests_arriving_during_a_step_are_prefilled_in_one_call_at_its_end() -> None:
    late: list[Request] = []

    def send_three_during_step_2(names: list[str]) -> None:
        if len(stepper.steps) == 2:
            late.extend(Request(batcher, name, budget=4) for name in ["b", "c", "d"])
            _wait_for(lambda: batcher.waiting == 3)

    stepper = CountingStepper(send_three_during_step_2)
    batcher = batcher_of(stepper)
    first = Request(batcher, "a", budget=6).wait()
    assert [len(r.wait().frames) for r in late] == [4, 4, 4]
    assert stepper.prefills == [["a"], ["b", "c", "d"]]
    assert stepper.steps[2] == ["a", "b", "c", "d"]
    assert len(first.frames) == 6


def test_a_group_that_fails_fails_its_own_items_only() -> None:
    def run(group: list[int]) -> list[int]:
        if 3 in group:
            raise RuntimeError("this group's forward pass failed")
        return [item * 10 for item in group]

    made = in_groups([1, 2, 3, 4], key=lambda item: item % 2, run=run)
    assert [made[1], made[3]] == [20, 40]
    assert all(isinstance(made[index], RuntimeError) for index in (0, 2))


def test_requests_arriving_together_at_an_idle_batch_are_prefilled_together() -> None:
    stepper = CountingStepper()
    b_ready = threading.Event()
    stepper.held["b"] = b_ready
    # Long enough that only b being ready can end the wait, however busy the machine.
    batcher = batcher_of(stepper, gather_s=TIMEOUT_S)
    b = Request(batcher, "b", budget=3)
    assert stepper.preparing.wait(TIMEOUT_S)
    a = Request(batcher, "a", budget=3)
    _wait_for(lambda: batcher.waiting == 1)  # a is ready; b is still being prepared
    b_ready.set()
    assert [len(r.wait().frames) for r in (a, b)] == [3, 3]
    assert stepper.prefills == [["a", "b"]]
    assert stepper.steps == [["a", "b"]] * 2


def test_a_codec_call_asking_for_a_turn_runs_between_two_steps() -> None:
    turns = Turns()
    events: list[str] = []
    codec_asked = threading.Event()

    def codec() -> None:  # as the shared decoder's call: a turn of its own
        codec_asked.set()
        with turns:
            events.append("codec")

    def codec_asks_during_step_2(names: list[str]) -> None:
        events.append(f"step {len(stepper.steps)}")
        if len(stepper.steps) == 2:
            threading.Thread(target=codec).start()
            assert codec_asked.wait(TIMEOUT_S)
            threading.Event().wait(0.05)  # the codec would run now if it had the turn
            events.append("step 2 ends")

    stepper = CountingStepper(codec_asks_during_step_2)
    batcher = Batcher(stepper, 8, 8, torch.device("cpu"), turns=turns)
    assert len(Request(batcher, "a", budget=5).wait().frames) == 5
    assert events == ["step 1", "step 2", "step 2 ends", "codec", "step 3", "step 4"]
