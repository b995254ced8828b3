"""SGLang-Omni's speech server (`sgl-omni serve --model-path <model>`), as a contract fake:
`python -m fakes.sglang_omni_fake --port N --api-key K`, the checkpoint in FAKE_OMNI_MODEL.

Its `CreateSpeechRequest` (sglang_omni/serve/protocol.py) takes the same fields as
vLLM-Omni's (task_type, ref_audio, ref_text, voice, response_format, speed, stream), so the
validation is omni_runtime.py's; its errors are OpenAI-shaped (`openai_error_payload`,
sglang_omni/serve/speech_errors.py) and `GET /v1/audio/voices` answers `{"voices": [...],
"uploaded_voices": [...]}` (sglang_omni/serve/openai_api.py). No published concurrency
table was found for it: the curve is vLLM-Omni's shape with a slower first packet, to be
replaced by measured figures.
"""

from __future__ import annotations

from fastapi import FastAPI

from fakes.control import serve
from fakes.omni_runtime import Throughput, create_runtime_app

THROUGHPUT = Throughput(peak=50.6, half=11.65, first_packet_s=0.25)


def create_app(_api_key: str) -> FastAPI:
    return create_runtime_app("SGLang-Omni", THROUGHPUT)


if __name__ == "__main__":
    serve(create_app, "fake SGLang-Omni speech server")
