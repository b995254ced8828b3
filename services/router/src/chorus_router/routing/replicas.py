"""A provider's replicas, and which one takes the next stream: Envoy's least request,
weighted by each replica's speed.

A stream goes to the replica where it would wait least: the streams on it (this router's
own, counted as they open and close, plus those other router replicas sent it, from the
replica's last readiness poll), over the concurrency limit it reported, times the seconds
each slot takes per second of audio (the real-time factor it reported). Streams last
seconds, so counting them beats a random or round-robin spread, and weighing by speed
keeps a slow replica from holding the same number of streams as a fast one. Each replica
has its own breaker: one that keeps failing is passed over while the provider's other
replicas serve. A replica already tried by this request, or not ready, comes after the
others.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from chorus_contracts import BreakerPolicy, ChorusError, ReplicaLoad
from chorus_router.routing.breakers import Permit, ProviderBreaker
from chorus_router.routing.provider_health import Clock

Balancing = Literal["least-request", "round-robin"]


@dataclass(eq=False)
class Replica:
    """One endpoint of a provider, with what the router knows of its load and health."""

    url: str
    breaker: ProviderBreaker
    # Streams this router has open to it now.
    in_flight: int = 0
    # What it said on its last readiness poll; None until then or from an older provider.
    load: ReplicaLoad | None = None
    # This router's streams at the time of that poll: the part of its load that was ours.
    in_flight_at_poll: int = 0
    # Unknown until polled, so a new replica is tried at once.
    ready: bool = True

    def observed(self, load: ReplicaLoad | None) -> None:
        """What its readiness poll reported, just now."""
        self.load = load
        self.in_flight_at_poll = self.in_flight

    def streams(self) -> int:
        """Streams on it now: ours as we know them this instant, and the others' as of the
        last poll (its reported load, less what was ours then)."""
        if self.load is None:
            return self.in_flight
        reported = self.load.in_flight + self.load.queued
        return self.in_flight + max(0, reported - self.in_flight_at_poll)

    def wait_per_slot(self, pace: float) -> float:
        """How long one more stream would wait here, in units of one stream's work at the
        replica's `pace` (seconds per audio second): lower is better."""
        limit = self.load.max_concurrency if self.load else 1
        return (self.streams() + 1) / limit * pace


class ReplicaLease:
    """One stream's hold on a replica: in flight until it ends, and the breaker's permit
    until the attempt's verdict. Each part ends once, however often it is told to."""

    def __init__(self, replica: Replica, permit: Permit) -> None:
        self.replica = replica
        self._permit: Permit | None = permit
        self._open = True
        replica.in_flight += 1

    @property
    def url(self) -> str:
        return self.replica.url

    def succeeded(self) -> None:
        if self._permit is not None:
            self.replica.breaker.succeeded(self._permit)
        self._permit = None
        self.end()

    def failed(self, error: ChorusError) -> None:
        """The replica's breaker hears what the provider's would (before or after the first
        byte)."""
        if error.counts_against_breaker:
            self.replica.breaker.failed(self._permit)
        elif self._permit is not None:
            self.replica.breaker.released(self._permit)
        self._permit = None
        self.end()

    def released(self) -> None:
        """No verdict on the replica (a client error, a cancel, a client that left)."""
        if self._permit is not None:
            self.replica.breaker.released(self._permit)
        self._permit = None
        self.end()

    def end(self) -> None:
        """The stream is over: the replica has one fewer in flight."""
        if self._open:
            self._open = False
            self.replica.in_flight -= 1


class Replicas:
    """The replicas of one provider, kept by URL across registry updates."""

    def __init__(
        self,
        provider: str,
        policy: BreakerPolicy,
        clock: Clock,
        balancing: Balancing = "least-request",
        rng: random.Random | None = None,
    ) -> None:
        self._provider = provider
        self._policy = policy
        self._clock = clock
        self._balancing = balancing
        self._random = rng or random.Random()
        self._turns = itertools.count()
        self._replicas: dict[str, Replica] = {}

    def update(self, urls: list[str], policy: BreakerPolicy) -> None:
        """The provider's endpoints now; a replica still listed keeps its state."""
        self._policy = policy
        fresh: dict[str, Replica] = {}
        for url in urls:
            replica = self._replicas.get(url)
            if replica is None:
                breaker = ProviderBreaker(f"{self._provider}@{url}", policy, self._clock)
                replica = Replica(url, breaker)
            else:
                replica.breaker.apply(policy)
            fresh[url] = replica
        self._replicas = fresh

    def all(self) -> list[Replica]:
        return list(self._replicas.values())

    @property
    def several(self) -> bool:
        return len(self._replicas) > 1

    def all_open(self) -> bool:
        """Every replica's breaker is open: none takes a stream until a probe is due."""
        return all(r.breaker.open_until() is not None for r in self._replicas.values())

    def lease(self, avoid: Collection[str] = ()) -> ReplicaLease | None:
        """The next stream's replica with its breaker's permit, or None when every
        replica's breaker refuses. Replicas in `avoid` (URLs) are tried only after the rest."""
        for replica in self._ordered(avoid):
            permit = replica.breaker.permit()
            if permit is not None:
                return ReplicaLease(replica, permit)
        return None

    def _ordered(self, avoid: Collection[str]) -> list[Replica]:
        replicas = self.all()
        if self._balancing == "round-robin":
            turn = next(self._turns) % len(replicas)
            rotated = replicas[turn:] + replicas[:turn]
            rank = {id(r): i for i, r in enumerate(rotated)}
            return sorted(rotated, key=lambda r: (r.url in avoid, not r.ready, rank[id(r)]))
        ties = {id(r): self._random.random() for r in replicas}
        paces = _paces(replicas)
        return sorted(
            replicas,
            key=lambda r: (r.url in avoid, not r.ready, r.wait_per_slot(paces[id(r)]), ties[id(r)]),
        )


def _paces(replicas: list[Replica]) -> dict[int, float]:
    """Each replica's reported real-time factor; one that reported none yet (new, or an
    older provider) is taken to be as fast as the fastest, so it is tried soon."""
    known = [r.load.real_time_factor for r in replicas if r.load and r.load.real_time_factor]
    fastest = min(known, default=1.0)
    return {
        id(r): (r.load.real_time_factor if r.load and r.load.real_time_factor else fastest)
        for r in replicas
    }
