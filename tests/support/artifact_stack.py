"""A router with Piper and a breakable tone provider behind it, its stored audio under the
test's directory (or in an S3 bucket)."""

from __future__ import annotations

from pathlib import Path

from support.stack import Stack, entry, start_provider, start_router
from support.tone_stack import start_tone_provider


def start_artifact_stack(logs: Path, router_env: dict[str, str] | None = None) -> Stack:
    piper = start_provider("piper", logs)
    # The tone provider's audio is cacheable only with a model identity.
    tone = start_tone_provider("tone", logs, env={"CHORUS_FAULTY_MODEL_ID": "tone-1"})
    registry = logs / "providers.yaml"
    Stack.write_registry_file(
        registry,
        [
            entry("piper", piper, ["piper"], voices={"alloy": "joe"}),
            entry("tone", tone, ["tone"], voices={"alloy": "low"}),
        ],
    )
    env = {"CHORUS_ROUTER_ARTIFACTS__SWEEP_INTERVAL_S": "0.2", **(router_env or {})}
    stack = Stack(start_router(registry, logs, env), {"piper": piper, "tone": tone}, registry)
    try:
        piper.wait_ready()
        tone.wait_ready()
        stack.router.wait_ready("/healthz")
        stack.wait_for_states({"piper": True, "tone": True})
    except BaseException:
        stack.stop()
        raise
    return stack
