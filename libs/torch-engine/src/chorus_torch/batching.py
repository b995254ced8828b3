"""Continuous batching: concurrent generations on one model share each decoding step.

A `Batcher` runs one thread that repeats a step for every member of the batch at once:
one forward pass of the model for all of them, then each member samples its own next
tokens with its own generator. Members join and leave at step boundaries, so a request
that arrives while others generate starts at the next step instead of waiting for them to
finish. A request's prompt is made ready (tokenized, a reference encoded) in the request's
own thread while the batch steps; requests that join at the same moment are then prefilled
together, in one forward pass where the model allows, so that N arrivals do not stall the
batch for N prefills. An idle batch starts once the requests being prepared beside its
first one are ready too (`GATHER_S` at most): requests that arrive together then step
together, and their windows come due for the codec at the same step. The model-specific
part is a `Stepper`: how to prepare and prefill requests, how to merge one into and take
it out of the batch, and what one shared step makes for each member.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import torch
from transformers import StoppingCriteriaList

from chorus_contracts import ProviderBusy, SynthesisRequest
from chorus_torch.frames import delivered_together
from chorus_torch.turns import Turns

log = logging.getLogger("chorus.torch.batching")

# How long an idle batch waits for the requests being prepared beside its first one; a
# prompt is normally ready in milliseconds, a long voice reference may take longer.
GATHER_S = 0.05


@dataclass(kw_only=True)
class Member:
    """One request's place in a batch: what the stepper keeps between its steps.

    `budget` is the most steps it may take (its token budget); `ended` is set by the
    stepper when the model itself ends the audio.
    """

    budget: int
    steps: int = 0
    ended: bool = False


S = TypeVar("S", bound=Member)
J = TypeVar("J")
T = TypeVar("T")
R = TypeVar("R")

# A joining request's state and its first frames (n, codebooks), or what fails it alone.
Prefilled = tuple[S, torch.Tensor] | Exception


class Stepper(ABC, Generic[S, J]):
    """A model's decoding loop cut at step boundaries, over a batch that changes.

    `J` is a request made ready to prefill: its prompt's inputs and how it samples.
    """

    @abstractmethod
    def prepare(self, request: SynthesisRequest, generator: torch.Generator) -> J:
        """Make `request` ready to prefill; runs in the request's own thread, beside the
        batch's steps, and raises what is wrong with the request."""

    @abstractmethod
    def prefill(self, joining: Sequence[J]) -> list[Prefilled[S]]:
        """Run the prompts of requests joining at once, together where the model allows;
        each request's state and first frames, or its error, in order."""

    @abstractmethod
    def join(self, member: S) -> None:
        """Add a prefilled member to the batch the next step runs."""

    @abstractmethod
    def leave(self, member: S) -> None:
        """Take a member out of the batch, freeing its rows of the cache."""

    @abstractmethod
    def step(self) -> Sequence[tuple[S, torch.Tensor | Exception]]:
        """One forward pass for the whole batch; each member's new frames, or its error."""


def in_groups(
    items: Sequence[T], key: Callable[[T], Hashable], run: Callable[[list[T]], list[R]]
) -> list[R | Exception]:
    """`run` over the items of each `key` at once, results in the items' order; an error
    while running a group fails that group's items only."""
    groups: dict[Hashable, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(key(item), []).append(index)
    made: list[R | Exception] = [RuntimeError("not run")] * len(items)
    for indices in groups.values():
        results: list[R | Exception]
        try:
            results = list(run([items[index] for index in indices]))
        except Exception as exc:  # that group's forward pass only
            results = [exc] * len(indices)
        for index, result in zip(indices, results, strict=True):
            made[index] = result
    return made


@dataclass
class _Ticket(Generic[J]):
    """A request waiting for, or holding, a place in the batch."""

    joining: J  # what the stepper's `prepare` made of the request
    put: Callable[[torch.Tensor], None]
    stop: StoppingCriteriaList
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    member: Member | None = None

    def stopped(self) -> bool:
        # The criteria are the ones `generate` takes; ours look at the cancel signal only.
        return bool(self.stop(torch.empty((1, 0), dtype=torch.long), None).any())

    def finish(self, error: BaseException | None = None) -> None:
        self.error = error
        self.done.set()


class Batcher(Generic[S, J]):
    """Runs a `Stepper`'s batch of at most `max_batch` members on a thread of its own.

    Its prefills and steps take `turns` with the codec's calls, where given. An idle
    batch waits up to `gather_s` for requests being prepared to start with it. Up
    to `max_waiting` more requests wait for a place; beyond that a request is refused as
    busy, as the provider's own admission does. A member leaves when the model ends its
    audio, when it has used its budget of steps, or within one step of its cancel. An error
    in one request's prompt or sampling fails that request only; an error in a shared
    prefill fails the requests of that prefill, and one in a step's shared forward pass the
    members of that step; the batcher goes on with new ones.
    """

    def __init__(
        self,
        stepper: Stepper[S, J],
        max_batch: int,
        max_waiting: int,
        device: torch.device,
        *,
        turns: Turns | None = None,
        gather_s: float = GATHER_S,
    ) -> None:
        self._stepper = stepper
        self._turns = turns
        self._gather_s = gather_s
        self._max_batch = max_batch
        self._max_waiting = max_waiting
        self._device = device
        self._waiting: deque[_Ticket[J]] = deque()
        self._active: dict[int, tuple[S, _Ticket[J]]] = {}
        self._lock = threading.Lock()
        # Requests in `prepare`: an idle batch waits for them (`_gather`).
        self._preparing = 0
        self._prepared = threading.Condition(self._lock)
        # The thread runs while there is work and ends with the last member, so nothing
        # outlives the model it batches for (idle unload frees it with the model).
        self._running = False

    @property
    def stepper(self) -> Stepper[S, J]:
        """The model's stepper this runs (tests drive it step by step)."""
        return self._stepper

    @property
    def batch_size(self) -> int:
        """Members generating now."""
        return len(self._active)

    @property
    def waiting(self) -> int:
        """Requests waiting for a place in the batch."""
        return len(self._waiting)

    def run(
        self,
        request: SynthesisRequest,
        put: Callable[[torch.Tensor], None],
        stop: StoppingCriteriaList,
        seed: int | None = None,
    ) -> Member:
        """Generate `request`'s frames, each step's to `put`, in the batch; blocks until done.

        With `seed` the member samples from its own generator seeded so, and its audio is
        the same whether it ran alone or beside others. Returns the member as it left
        (how many steps it took, whether the model ended it).
        """
        with self._lock:
            self._preparing += 1
        try:
            joining = self._stepper.prepare(request, self._generator(seed))
        finally:
            with self._lock:
                self._preparing -= 1
                self._prepared.notify_all()
        ticket = _Ticket(joining, put, stop)
        with self._lock:
            full = len(self._active) + len(self._waiting) >= self._max_batch
            if full and len(self._waiting) >= self._max_waiting:
                raise ProviderBusy(
                    f"all {self._max_batch} places of the batch and its queue are taken"
                )
            self._waiting.append(ticket)
            self._prepared.notify_all()
            if not self._running:
                self._running = True
                threading.Thread(target=self._loop, name="torch-batch", daemon=True).start()
        ticket.done.wait()
        if ticket.error is not None:
            raise ticket.error
        assert ticket.member is not None
        return ticket.member

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._waiting and not self._active:
                    self._running = False
                    return
                if not self._active:
                    self._gather()
                joining: list[_Ticket[J]] = []
                while self._waiting and len(self._active) + len(joining) < self._max_batch:
                    joining.append(self._waiting.popleft())
            try:
                with torch.inference_mode():
                    if joining:
                        self._admit(joining)
                    self._drop_stopped()
                    if self._active:
                        self._step()
            except Exception as exc:  # the batch's own bookkeeping: fail all, never hang
                log.exception("the batch failed")
                self._fail_all(exc, joining)
                return

    def _gather(self) -> None:
        """Wait (lock held) for the requests being prepared beside the waiting ones, while
        the batch has room for them; nobody is generating, so no step is held up."""
        self._prepared.wait_for(
            lambda: not self._preparing or len(self._waiting) >= self._max_batch, self._gather_s
        )

    def _fail_all(self, error: Exception, joining: list[_Ticket[J]]) -> None:
        with self._lock:
            tickets = [ticket for _, ticket in self._active.values()] + list(self._waiting)
            tickets += [ticket for ticket in joining if not ticket.done.is_set()]
            self._active.clear()
            self._waiting.clear()
            self._running = False
        for ticket in tickets:
            ticket.finish(error)

    def _admit(self, tickets: list[_Ticket[J]]) -> None:
        try:
            with self._turns or nullcontext():
                made = self._stepper.prefill([ticket.joining for ticket in tickets])
        except Exception as exc:  # the shared prefill: its requests fail, the batch goes on
            made = [exc] * len(tickets)
        # Each request's member, or what fails it alone: its prompt, or its gone stream.
        outcomes: list[tuple[_Ticket[J], S | Exception]] = []
        with delivered_together():
            for ticket, prefilled in zip(tickets, made, strict=True):
                if isinstance(prefilled, Exception):
                    outcomes.append((ticket, prefilled))
                    continue
                member, frames = prefilled
                outcomes.append((ticket, self._deliver(ticket, frames) or member))
        for ticket, outcome in outcomes:
            if isinstance(outcome, Exception):
                ticket.finish(outcome)
                continue
            member = outcome
            member.steps = 1
            ticket.member = member
            with self._lock:
                self._active[id(member)] = (member, ticket)
            if self._over(member):
                self._release(member, ticket)
            else:
                self._stepper.join(member)
        log.info("%d requests joined the batch; %d generating", len(tickets), len(self._active))

    def _generator(self, seed: int | None) -> torch.Generator:
        generator = torch.Generator(device=self._device)
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        return generator

    def _drop_stopped(self) -> None:
        for member, ticket in list(self._active.values()):
            if ticket.stopped():
                self._stepper.leave(member)
                self._release(member, ticket)

    def _step(self) -> None:
        try:
            with self._turns or nullcontext():
                made = self._stepper.step()
        except Exception as exc:  # the shared forward pass: every member of it fails
            log.exception("a batched step failed for %d members", len(self._active))
            for member, ticket in list(self._active.values()):
                self._stepper.leave(member)
                self._release(member, ticket, exc)
            return
        delivered: list[tuple[S, _Ticket[J], Exception | None]] = []
        with delivered_together():
            for member, frames in made:
                _, ticket = self._active[id(member)]
                error = frames if isinstance(frames, Exception) else self._deliver(ticket, frames)
                delivered.append((member, ticket, error))
        for member, ticket, error in delivered:
            member.steps += 1
            if error is not None or self._over(member):
                self._stepper.leave(member)
                self._release(member, ticket, error)

    @staticmethod
    def _deliver(ticket: _Ticket[J], frames: torch.Tensor) -> Exception | None:
        try:
            ticket.put(frames)
        except Exception as exc:  # the request's own stream is gone
            return exc
        return None

    @staticmethod
    def _over(member: Member) -> bool:
        return member.ended or member.steps >= member.budget

    def _release(self, member: S, ticket: _Ticket[J], error: BaseException | None = None) -> None:
        with self._lock:
            self._active.pop(id(member), None)
        ticket.finish(error)
