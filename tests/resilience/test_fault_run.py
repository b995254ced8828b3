"""Every request a healthy fallback could serve succeeds while the primary is killed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from support.fault_run import fault_run
from support.stack import Stack


def test_no_request_is_lost_while_the_primary_is_killed_and_restarted_twice(
    tone_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    stack = tone_stack()
    report = fault_run(stack, tmp_path, clients=8, per_client=25, restarts=2)
    print(f"\nfault run: {report}")
    assert report.requests == 200
    assert report.failures == 0, report.statuses
    # Only a streamed response whose primary died after its first byte may be cut short.
    assert report.cut_mid_stream <= 2 * 4
    assert report.mixed_voices == 0
    assert report.served_by["a"] > 0
    assert report.served_by["b"] > 0, "the primary was never down long enough to matter"
    assert report.router_counters.get("tts_fallback_attempts_total", 0) > 0
