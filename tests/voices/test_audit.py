"""The audit log, end to end: voice and key operations through the SDK and the management API
on two routers, read back by an admin from either, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
from typing import Any

import openai
import pytest
from sqlalchemy import create_engine, text

from support.voice_samples import sample
from support.voice_stack import VoiceStack

SPOKEN = "Audit trails never keep what was said."


def _events(stack: VoiceStack, admin: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of the log for `params`, oldest first, read from the second router."""
    client = stack.http(admin, router=1)
    events: list[dict[str, Any]] = []
    after = None
    while True:
        query = {**params, "limit": 2, **({"after": after} if after else {})}
        page = client.get("/api/v1/admin/audit", params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        events.extend(body["data"])
        if not body["has_more"]:
            return events[::-1]
        after = body["last_id"]


def test_each_voice_operation_is_recorded_once(
    stack: VoiceStack, user: str, recording: bytes
) -> None:
    alice = stack.sdk(user, router=0)
    consent = alice.audio.voice_consents.create(
        name="Consent", language="en-US", recording=("c.wav", recording, "audio/wav")
    )
    alice.audio.voice_consents.update(consent.id, name="Renamed")
    upload = sample("wav", seconds=5.0, pitch=190.0)
    voice = stack.sdk(user, router=1).audio.voices.create(
        name="Ada", consent=consent.id, audio_sample=("a.wav", io.BytesIO(upload), "audio/wav")
    )
    alice.audio.speech.create(
        model="clone", voice={"id": voice.id}, input=SPOKEN, response_format="pcm"
    ).read()
    preview = stack.http(user).post(f"/api/v1/audio/voices/{voice.id}/preview")
    assert preview.status_code == 200
    alice.audio.voices.delete(voice.id)
    with pytest.raises(openai.NotFoundError):
        alice.audio.voices.delete(voice.id)
    with pytest.raises(openai.NotFoundError):
        alice.audio.speech.create(model="clone", voice={"id": voice.id}, input=SPOKEN)
    alice.audio.voice_consents.delete(consent.id)

    got = [
        (e["action"], e["resource_id"], e["outcome"], e["status"])
        for e in _events(stack, f"{user}-admin", user=user)
    ]
    assert got == [
        ("voice_consent.create", consent.id, "ok", 200),
        ("voice_consent.update", consent.id, "ok", 200),
        ("voice.create", voice.id, "ok", 200),
        ("voice.use", voice.id, "ok", 200),
        ("voice.preview", voice.id, "ok", 200),
        ("voice.delete", voice.id, "ok", 200),
        ("voice.delete", voice.id, "not_found", 404),
        ("voice.use", voice.id, "not_found", 404),
        ("voice_consent.delete", consent.id, "ok", 200),
    ]
    only_creates = _events(stack, f"{user}-admin", user=user, action="voice.create")
    assert [e["resource_id"] for e in only_creates] == [voice.id]
    events = _events(stack, f"{user}-admin", user=user)
    assert {e["actor"] for e in events} == {user}
    assert all(len(e["request_id"]) >= 8 for e in events)
    assert _events(stack, f"{user}-admin", user=user, since=events[-1]["created_at"] + 1) == []
    _assert_nothing_secret_kept(stack, [SPOKEN, base64.b64encode(upload[:300]).decode()[:40]])


def test_key_operations_and_refused_admin_reads(stack: VoiceStack, user: str) -> None:
    admin = stack.http(f"{user}-admin")
    created = admin.post(
        "/api/v1/admin/keys", json={"user": user, "scopes": ["speech"], "name": "ci"}
    )
    assert created.status_code == 200, created.text
    key = created.json()
    assert key["key"].startswith("sk-chorus-")
    assert key["id"] in {k["id"] for k in admin.get("/api/v1/admin/keys").json()["data"]}
    assert admin.delete(f"/api/v1/admin/keys/{key['id']}").status_code == 200
    assert admin.delete(f"/api/v1/admin/keys/{key['id']}").status_code == 404

    # Another tenant without the admin scope may not read the log, and trying is recorded.
    nosy = stack.http(f"{user}-nosy", scopes="speech voices")
    refused = nosy.get("/api/v1/admin/audit", params={"user": f"{user}-admin"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "insufficient_permissions"

    by_admin = [
        (e["action"], e["resource_id"], e["outcome"])
        for e in _events(stack, f"{user}-admin", user=f"{user}-admin")
        if e["action"] != "audit.read"
    ]
    assert by_admin == [
        ("api_key.create", key["id"], "ok"),
        ("api_key.list", None, "ok"),
        ("api_key.revoke", key["id"], "ok"),
        ("api_key.revoke", key["id"], "not_found"),
    ]
    denied = _events(stack, f"{user}-admin", user=f"{user}-nosy")
    assert [(e["action"], e["outcome"], e["status"]) for e in denied] == [
        ("audit.read", "denied", 403)
    ]
    secret = key["key"].removeprefix(f"sk-chorus-{key['id']}-")
    assert len(secret) >= 40
    _assert_nothing_secret_kept(stack, [key["key"], secret])


def test_bad_filters_are_400(stack: VoiceStack, user: str) -> None:
    admin = stack.http(f"{user}-admin")
    for params in ({"action": "voice.explode"}, {"since": "yesterday"}, {"limit": 0}):
        answer = admin.get("/api/v1/admin/audit", params=params)
        assert answer.status_code in (400, 422), params
        assert "error" in answer.json()


def _assert_nothing_secret_kept(stack: VoiceStack, secrets: list[str]) -> None:
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM audit_events")).all()
    finally:
        engine.dispose()
    table = "\n".join(repr(tuple(row)) for row in rows)
    logs = "\n".join(p.read_text(errors="replace") for p in stack.logs.glob("router-*.log"))
    assert '"message": "audit"' in logs
    for secret in secrets:
        assert secret not in table
        assert secret not in logs
