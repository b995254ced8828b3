"""Replicas on one PostgreSQL share their API keys: one made with the admin CLI against that
database is accepted by every router at once, and once revoked, refused by all of them."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from support.postgres_server import PostgresServer
from support.secure_stack import MODEL, Keys, api_key_env, openai_client, start_secure_router

pytestmark = pytest.mark.e2e


def test_a_key_made_with_the_cli_works_on_both_routers_until_revoked(
    registry: Path, security_logs: Path, postgres: PostgresServer
) -> None:
    keys = Keys(postgres.create_database("chorus_shared_keys"))
    env = api_key_env(keys.database_url)
    routers = [start_secure_router(registry, security_logs, env) for _ in range(2)]
    try:
        key = keys.create("alice", "speech")
        for router in routers:
            audio = openai_client(router, key).audio.speech.create(
                model=MODEL, voice="alloy", input="Shared.", response_format="pcm"
            )
            assert len(audio.content) > 1000

        keys.revoke(key)
        for router in routers:
            with pytest.raises(openai.AuthenticationError) as refused:
                openai_client(router, key).models.list()
            assert refused.value.status_code == 401
            assert refused.value.response.json()["error"]["code"] == "invalid_api_key"
    finally:
        for router in routers:
            router.stop()
