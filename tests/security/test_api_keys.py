"""API-key mode on a real router: OpenAI clients send keys, bad ones get OpenAI's 401/403."""

from __future__ import annotations

import httpx
import openai
import pytest

from support.processes import ServiceProcess
from support.secure_stack import (
    MODEL,
    Keys,
    openai_client,
)

pytestmark = pytest.mark.e2e


def _speak(router: ServiceProcess, key: str, text: str = "Hello.") -> bytes:
    client = openai_client(router, key)
    return client.audio.speech.create(
        model=MODEL, voice="alloy", input=text, response_format="pcm"
    ).content


def _assert_openai_error(exc: openai.APIStatusError, status: int, code: str) -> None:
    assert exc.status_code == status
    body = exc.response.json()
    assert set(body["error"]) >= {"message", "type", "param", "code"}
    assert body["error"]["code"] == code


def test_a_valid_key_speaks_through_the_openai_sdk(router: ServiceProcess, keys: Keys) -> None:
    key = keys.create("alice", "speech")

    audio = _speak(router, key)
    models = openai_client(router, key).models.list()

    assert len(audio) > 1000
    assert MODEL in [m.id for m in models.data]


def test_prose_that_looks_like_an_attack_is_spoken(router: ServiceProcess, keys: Keys) -> None:
    key = keys.create("alice", "speech")

    assert len(_speak(router, key, "DROP TABLE users; <script>alert(1)</script>")) > 1000


def test_a_request_without_a_key_gets_401(router: ServiceProcess) -> None:
    response = httpx.get(f"{router.url}/v1/models")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert "Authorization: Bearer" in response.json()["error"]["message"]


@pytest.mark.parametrize("key", ["sk-chorus-000000000000-" + "a" * 43, "sk-proj-someone-elses"])
def test_wrong_keys_get_401(router: ServiceProcess, key: str) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        _speak(router, key)

    _assert_openai_error(caught.value, 401, "invalid_api_key")
    assert caught.value.response.headers["WWW-Authenticate"] == "Bearer"


def test_a_revoked_key_gets_401(router: ServiceProcess, keys: Keys) -> None:
    key = keys.create("bob", "speech")
    assert _speak(router, key)

    keys.revoke(key)

    with pytest.raises(openai.AuthenticationError, match="revoked") as caught:
        _speak(router, key)
    _assert_openai_error(caught.value, 401, "invalid_api_key")


def test_a_key_without_the_speech_scope_gets_403(router: ServiceProcess, keys: Keys) -> None:
    key = keys.create("carol", "voices")

    with pytest.raises(openai.PermissionDeniedError) as caught:
        _speak(router, key)
    _assert_openai_error(caught.value, 403, "insufficient_permissions")


@pytest.mark.parametrize("path", ["/api/v1/audio/providers", "/api/v1/audio/health"])
def test_management_endpoints_are_for_admins_only(
    router: ServiceProcess, keys: Keys, path: str
) -> None:
    speech_key = keys.create("dave", "speech", "voices")
    admin_key = keys.create("root", "admin")

    refused = httpx.get(router.url + path, headers={"Authorization": f"Bearer {speech_key}"})
    allowed = httpx.get(router.url + path, headers={"Authorization": f"Bearer {admin_key}"})
    anonymous = httpx.get(router.url + path)

    assert (refused.status_code, allowed.status_code, anonymous.status_code) == (403, 200, 401)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_and_metrics_stay_open(router: ServiceProcess, path: str) -> None:
    response = httpx.get(router.url + path)

    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
