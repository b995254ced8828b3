"""The stack the benchmarks measure: the three local engines behind one router."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.processes import ServiceProcess, free_port
from support.stack import Stack, entry, start_provider, start_router

Registry = Callable[[dict[str, ServiceProcess]], list[dict[str, Any]]]


def engine_models(providers: dict[str, ServiceProcess]) -> list[dict[str, Any]]:
    """Each engine serves a model named after it."""
    return [
        entry("piper", providers["piper"], ["piper"], voices={"alloy": "joe"}),
        entry("espeak", providers["espeak"], ["espeak"]),
        entry("kokoro", providers["kokoro"], ["kokoro"]),
    ]


def start_bench_stack(logs: Path, registry: Registry = engine_models) -> Stack:
    """espeak-ng, Piper and Kokoro behind a router whose registry `registry` writes."""
    providers = {kind: start_provider(kind, logs) for kind in ("espeak", "piper", "kokoro")}
    registry_file = logs / "providers.yaml"
    Stack.write_registry_file(registry_file, registry(providers))
    settings = {
        # The cache off: benchmarks repeat requests, and each must be synthesized.
        "CHORUS_ROUTER_ARTIFACTS__CACHE__ENABLED": "false",
        # The default health poll: the tests' 0.25 s poll took 42% of the router's busy CPU
        # in a py-spy profile of short Piper requests, and the providers' too.
        "CHORUS_ROUTER_PROVIDER_POLL_INTERVAL_S": "2",
    }
    stack = Stack(start_router(registry_file, logs, settings), providers, registry_file)
    for proc in providers.values():
        proc.wait_ready()
    stack.router.wait_ready("/healthz")
    stack.wait_for_states({name: True for name in providers})
    return stack


def start_bare_proxy(stack: Stack) -> ServiceProcess:
    """`bench.bare_proxy` in front of `stack`'s providers, each model named after its engine."""
    urls = json.dumps({name: proc.url for name, proc in stack.providers.items()})
    port = free_port()
    args = (str(port), urls)
    logs = stack.router.log_path.parent
    return ServiceProcess("bare-proxy", "bench.bare_proxy", port, {}, logs, args).start()
