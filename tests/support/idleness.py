"""Probes of whether a service has stopped working for a request nobody waits for."""

from __future__ import annotations

import os
import time

import httpx

from support.processes import wait_until

_TICKS = os.sysconf("SC_CLK_TCK")


def gauge(url: str, name: str) -> float:
    """One unlabelled gauge from a service's /metrics."""
    for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[-1])
    raise KeyError(f"{name} is not in {url}/metrics")


def counter(url: str, name: str, **labels: str) -> float:
    """The sum of a counter's (or a histogram's `_sum`/`_count`) series with `labels`."""
    total = 0.0
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
        series, _, value = line.rpartition(" ")
        if series.partition("{")[0] == name and all(w in series for w in wanted):
            total += float(value)
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its waited-for children (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    # Fields after the command: utime, stime, cutime, cstime are the 12th to 15th.
    return sum(int(x) for x in fields[11:15]) / _TICKS


def provider_idle(url: str) -> bool:
    return (
        gauge(url, "chorus_provider_in_flight_requests") == 0
        and gauge(url, "chorus_provider_queued_requests") == 0
    )


def wait_idle(url: str, pid: int, bound_s: float, window_s: float = 0.5) -> float:
    """Seconds until the provider holds no request and its process burns (almost) no CPU.

    Raises AssertionError past `bound_s`. "Idle" is under 20 % of a core over `window_s`:
    the process still answers readiness polls and metrics scrapes.
    """
    started = time.monotonic()
    assert wait_until(lambda: provider_idle(url), timeout_s=bound_s), (
        f"{url} still holds a request {bound_s}s after the client left"
    )
    while True:
        before = cpu_seconds(pid)
        time.sleep(window_s)
        if cpu_seconds(pid) - before < 0.2 * window_s:
            return time.monotonic() - started - window_s
        assert time.monotonic() - started < bound_s + window_s, (
            f"{url} is still computing {bound_s}s after the client left"
        )


def requests_left(router_url: str) -> float:
    """Speech requests the router has ended because their client left (`client_gone`)."""
    return counter(router_url, "tts_requests_total", status="client_gone")


def wait_request_left(router_url: str, before: float, bound_s: float = 30.0) -> None:
    """Until the router has ended one more request as `client_gone`.

    The router accounts a request once, when it stops working for it, and a request it went
    on with for nobody would end as "200" instead, after storing its audio: so after this,
    whether anything was stored is settled. Raises AssertionError past `bound_s`.
    """
    assert wait_until(lambda: requests_left(router_url) > before, timeout_s=bound_s), (
        f"the router ended no request as client_gone within {bound_s}s of the client leaving"
    )
