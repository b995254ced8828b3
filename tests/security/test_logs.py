"""A router at debug level, fed keys, tokens and long text, logs none of them."""

from __future__ import annotations

from pathlib import Path

import httpx
import jwt
import pytest

from support.processes import ServiceProcess
from support.secure_stack import MODEL, Keys, api_key_env, start_secure_router

pytestmark = pytest.mark.e2e

LONG_TEXT = " ".join(
    f"Sentence number {i} of a private letter nobody should log." for i in range(40)
)


def test_keys_tokens_and_long_text_stay_out_of_the_logs(
    registry: Path, security_logs: Path, espeak: ServiceProcess, tmp_path: Path
) -> None:
    keys = Keys.sqlite(tmp_path)
    key, revoked = keys.create("alice", "speech"), keys.create("alice", "speech")
    keys.revoke(revoked)
    token = jwt.encode({"sub": "alice", "scope": "speech"}, "x" * 32, "HS256")
    unknown = key[:-4] + "zzzz"
    env = api_key_env(keys.database_url, CHORUS_ROUTER_LOG_LEVEL="debug")
    router = start_secure_router(registry, security_logs, env)
    try:
        for bearer in (key, revoked, unknown, token, f"{key} {token}"):
            for body in (
                {"model": MODEL, "voice": "alloy", "input": LONG_TEXT},
                {"model": "no-such-model", "voice": "alloy", "input": LONG_TEXT},
                {"model": MODEL, "voice": "alloy", "input": LONG_TEXT * 3},
            ):
                httpx.post(
                    f"{router.url}/v1/audio/speech",
                    json=body,
                    headers={"Authorization": f"Bearer {bearer}"},
                    timeout=60,
                )
            httpx.get(f"{router.url}/v1/models?api_key={bearer}")
    finally:
        router.stop()

    logs = router.log_path.read_text(errors="replace") + espeak.log_path.read_text()
    assert "speech request" in logs or "/v1/audio/speech" in logs  # the run did log
    # sk-chorus-<id>-<secret>: the secret is URL-safe base64 and may itself hold a "-".
    secret_part = key.split("-", 3)[3]
    for secret in (key, revoked, unknown, token, secret_part, LONG_TEXT[:120]):
        assert secret not in logs
