"""A runtime pod as local processes: a batching runtime's contract fake (the engine) and
chorus-openai in front of it, set up as the operator renders a `spec.runtime` provider
(operator/src/chorus_operator/engine_sidecar.py, `front_env`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from fakes.process import FakeVendor, start_fake
from support.processes import ServiceProcess
from support.stack import start_provider

CUSTOM_VOICE = "Qwen/Qwen3-TTS-12Hz-1.7B-CustomVoice"


def front_settings(engine: FakeVendor, model: str, **settings: str) -> dict[str, str]:
    """chorus-openai's settings for the engine beside it, as `front_env` renders them."""
    return {
        "CHORUS_OPENAI_BASE_URL": f"{engine.url}/v1",
        "CHORUS_OPENAI_UPSTREAM_HEALTH_URL": f"{engine.url}/health",
        "CHORUS_OPENAI_VERIFY_KEY": "false",
        "CHORUS_OPENAI_MODELS": json.dumps([model]),
        "CHORUS_OPENAI_DEFAULT_MODEL": model,
        "CHORUS_OPENAI_EXTRA_BODY": json.dumps({"stream": True}),
        "CHORUS_OPENAI_MAX_CONCURRENCY": "16",
        **settings,
    }


@dataclass
class RuntimePod:
    """The engine and its front; the router reaches the front only."""

    engine: FakeVendor
    front: ServiceProcess

    def stop(self) -> None:
        self.front.stop()
        self.engine.stop()


def start_runtime_pod(
    name: str, logs: Path, port: int | None = None, load_s: float = 0.0
) -> RuntimePod:
    """A vLLM-Omni replica serving Qwen3-TTS CustomVoice whose model takes `load_s` to load;
    its front listens on `port` and is ready only once the engine is. Returns once the fake's
    process answers its controls: nothing here waits for the model or the front."""
    settings = {"FAKE_OMNI_MODEL": CUSTOM_VOICE, "FAKE_OMNI_LOAD_S": str(load_s)}
    engine = start_fake("vllm_omni", logs, "", settings)
    front = front_settings(engine, CUSTOM_VOICE, CHORUS_OPENAI_TASK_TYPE="CustomVoice")
    return RuntimePod(engine, start_provider("openai", logs, name, front, port))
