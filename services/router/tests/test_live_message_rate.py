"""A live session's message rate: a burst goes through, then the sustained rate."""

from __future__ import annotations

from chorus_router.speech.live import MessageRate


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_goes_through_and_the_next_message_is_refused() -> None:
    clock = _Clock()
    rate = MessageRate(per_second=10, burst=5, clock=clock)
    assert all(rate.admit() for _ in range(5))
    assert not rate.admit()


def test_time_refills_the_bucket_at_the_rate_up_to_the_burst() -> None:
    clock = _Clock()
    rate = MessageRate(per_second=10, burst=5, clock=clock)
    assert all(rate.admit() for _ in range(5))
    clock.now += 0.2  # two messages' worth
    assert rate.admit()
    assert rate.admit()
    assert not rate.admit()
    clock.now += 60  # a long pause refills no more than the burst
    assert all(rate.admit() for _ in range(5))
    assert not rate.admit()


def test_a_client_at_the_rate_is_never_refused() -> None:
    clock = _Clock()
    rate = MessageRate(per_second=20, burst=2, clock=clock)
    for _ in range(1000):
        assert rate.admit()
        clock.now += 0.05
