"""Which replica of a provider takes the next stream: least request, weighted by what each
replica reports, past open breakers; the clock is moved by hand."""

from __future__ import annotations

import random

import pytest

from chorus_contracts import BreakerPolicy, ProviderBusy, ReplicaLoad, UpstreamError
from chorus_router.routing.registry import ProviderEntry
from chorus_router.routing.replicas import Balancing, ReplicaLease, Replicas

A, B, C = "http://a:8000", "http://b:8000", "http://c:8000"
POLICY = BreakerPolicy(fail_max=2, reset_timeout_s=10)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _replicas(
    clock: Clock, urls: tuple[str, ...] = (A, B), balancing: Balancing = "least-request"
) -> Replicas:
    replicas = Replicas("kokoro", POLICY, clock, balancing, random.Random(7))
    replicas.update(list(urls), POLICY)
    return replicas


def _lease(replicas: Replicas, avoid: tuple[str, ...] = ()) -> ReplicaLease:
    lease = replicas.lease(avoid)
    assert lease is not None
    return lease


def _report(
    replicas: Replicas,
    url: str,
    queued: int,
    limit: int,
    in_flight: int = 0,
    real_time_factor: float | None = None,
) -> None:
    """What `url`'s readiness poll says now."""
    (replica,) = [r for r in replicas.all() if r.url == url]
    replica.observed(
        ReplicaLoad(
            in_flight=in_flight,
            queued=queued,
            max_concurrency=limit,
            real_time_factor=real_time_factor,
        )
    )


def test_each_stream_goes_to_the_replica_with_the_fewest_in_flight() -> None:
    replicas = _replicas(Clock(), (A, B, C))
    held = [_lease(replicas) for _ in range(3)]
    assert sorted(lease.url for lease in held) == [A, B, C], "one each before any gets two"
    held[0].succeeded()
    assert _lease(replicas).url == held[0].url, "the one whose stream ended"


def test_a_replica_with_more_slots_takes_more_streams() -> None:
    replicas = _replicas(Clock())
    _report(replicas, A, queued=0, limit=4)
    _report(replicas, B, queued=0, limit=1)
    urls = [_lease(replicas).url for _ in range(5)]
    assert urls.count(A) == 4
    assert urls.count(B) == 1


def test_a_replica_that_reports_a_queue_is_passed_over() -> None:
    replicas = _replicas(Clock())
    _report(replicas, A, queued=3, limit=2)
    _report(replicas, B, queued=0, limit=2)
    # A's next stream would make (3 queued + 1) per 2 slots; B's first three make at most 3/2.
    assert [_lease(replicas).url for _ in range(3)] == [B, B, B]
    _report(replicas, A, queued=0, limit=2)
    assert _lease(replicas).url == A, "its queue drained"


def test_a_replica_at_half_speed_holds_half_the_streams_per_slot() -> None:
    replicas = _replicas(Clock())
    _report(replicas, A, queued=0, limit=2, real_time_factor=0.5)
    _report(replicas, B, queued=0, limit=2, real_time_factor=1.0)
    urls = [_lease(replicas).url for _ in range(8)]
    # B's streams take twice as long: A's fifth waits as long as B's third; least request
    # alone would give each four, round robin too.
    assert urls.count(A) >= 5
    assert urls.count(B) <= 3


def test_a_replica_that_reported_no_pace_yet_is_taken_as_fast_as_the_fastest() -> None:
    replicas = _replicas(Clock())
    _report(replicas, A, queued=0, limit=2, real_time_factor=2.0)
    _report(replicas, B, queued=0, limit=2)
    urls = [_lease(replicas).url for _ in range(4)]
    assert urls.count(A) == urls.count(B) == 2


def test_our_own_streams_are_not_counted_twice_when_the_replica_reports_them() -> None:
    replicas = _replicas(Clock())
    held = [_lease(replicas, avoid=(B,)) for _ in range(3)]
    assert {lease.url for lease in held} == {A}
    # The poll sees our three on A (one running, two queued) and nothing on B.
    _report(replicas, A, queued=2, limit=1, in_flight=1)
    _report(replicas, B, queued=0, limit=1)
    urls = [_lease(replicas).url for _ in range(5)]
    # A holds 3 streams, B 0: B takes the next three, then they alternate.
    assert urls[:3] == [B, B, B]
    assert sorted(urls[3:]) == [A, B]


def test_streams_other_routers_sent_count_until_the_next_poll() -> None:
    replicas = _replicas(Clock())
    _report(replicas, A, queued=3, limit=1, in_flight=1)
    _report(replicas, B, queued=0, limit=1)
    assert [_lease(replicas).url for _ in range(4)] == [B, B, B, B]
    # A's four ended meanwhile; our own four on B still count.
    _report(replicas, A, queued=0, limit=1)
    _report(replicas, B, queued=3, limit=1, in_flight=1)
    assert _lease(replicas).url == A


def test_a_replica_whose_breaker_opened_is_skipped_until_its_probe() -> None:
    clock = Clock()
    replicas = _replicas(clock)
    for _ in range(POLICY.fail_max):
        lease = _lease(replicas, avoid=(B,))
        assert lease.url == A
        lease.failed(UpstreamError("boom"))
    assert [_lease(replicas).url for _ in range(3)] == [B, B, B], "A is open, though idle"
    clock.now += POLICY.reset_timeout_s
    probe = _lease(replicas, avoid=(B,))
    assert probe.url == A, "one probe once the reset timeout has passed"
    probe.succeeded()
    assert _lease(replicas).url == A, "closed again, and the least loaded"


def test_none_when_every_replica_is_open() -> None:
    replicas = _replicas(Clock())
    for url in (A, B):
        for _ in range(POLICY.fail_max):
            lease = _lease(replicas, avoid=tuple({A, B} - {url}))
            lease.failed(UpstreamError("boom"))
    assert replicas.lease() is None


def test_backpressure_does_not_open_a_replicas_breaker() -> None:
    replicas = _replicas(Clock(), (A,))
    for _ in range(POLICY.fail_max + 1):
        _lease(replicas).failed(ProviderBusy("full", retry_after=1))
    assert _lease(replicas).url == A


def test_a_retry_goes_to_another_replica_and_to_the_same_one_when_alone() -> None:
    replicas = _replicas(Clock())
    assert _lease(replicas, avoid=(A,)).url == B
    assert _lease(_replicas(Clock(), (A,)), avoid=(A,)).url == A


def test_a_replica_not_ready_comes_after_the_ready_ones() -> None:
    replicas = _replicas(Clock())
    replicas.all()[0].ready = False
    assert {_lease(replicas).url for _ in range(3)} == {B}


def test_round_robin_takes_turns_whatever_the_load() -> None:
    replicas = _replicas(Clock(), balancing="round-robin")
    _report(replicas, A, queued=10, limit=1)
    assert [_lease(replicas).url for _ in range(4)] == [A, B, A, B]


def test_a_stream_counts_in_flight_until_it_ends_however_often_it_is_told() -> None:
    replicas = _replicas(Clock(), (A,))
    lease = _lease(replicas)
    assert replicas.all()[0].in_flight == 1
    lease.succeeded()
    lease.end()
    lease.released()
    assert replicas.all()[0].in_flight == 0


def test_replicas_keep_their_state_across_updates() -> None:
    replicas = _replicas(Clock())
    held = _lease(replicas, avoid=(B,))
    replicas.update([C, A], POLICY)
    assert [r.url for r in replicas.all()] == [C, A]
    assert replicas.all()[1].in_flight == 1
    assert held.url == A


def test_providers_yaml_lists_replicas_beside_or_instead_of_url() -> None:
    entry = ProviderEntry(name="kokoro", urls=[f"{A}/", B, A], models=["kokoro"])
    assert entry.url == A
    assert entry.endpoints == [A, B]
    assert ProviderEntry(name="kokoro", url=C, models=["kokoro"]).endpoints == [C]


def test_a_replica_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="urls"):
        ProviderEntry(name="kokoro", urls=["ftp://a"], models=["kokoro"])
