"""vLLM-Omni's speech server (`vllm serve <model> --omni`), as a contract fake:
`python -m fakes.vllm_omni_fake --port N --api-key K`, the checkpoint in FAKE_OMNI_MODEL.

The request fields, validation and errors are omni_runtime.py's (vLLM-Omni's speech API,
https://docs.vllm.ai/projects/vllm-omni/en/stable/serving/speech_api/). Throughput: vLLM-Omni
publishes 20.6 audio seconds per second for Qwen3-TTS at 8 concurrent requests (the figure
issue 29 quotes); one stream alone is taken as 4x real time, which puts the curve's peak at
about 50 audio seconds per second, half of it reached at about 12 streams.
"""

from __future__ import annotations

from fastapi import FastAPI

from fakes.control import serve
from fakes.omni_runtime import Throughput, create_runtime_app

THROUGHPUT = Throughput(peak=50.6, half=11.65, first_packet_s=0.15)


def create_app(_api_key: str) -> FastAPI:
    return create_runtime_app("vLLM-Omni", THROUGHPUT)


if __name__ == "__main__":
    serve(create_app, "fake vLLM-Omni speech server")
