"""The key store and the admin CLI: keys are shown once, stored hashed, and revocable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from chorus_router.identity import Scope
from chorus_router.security.keys import KeyStore
from chorus_router.storage.database import SQLITE_FILE, database_url, open_engine
from chorus_router.storage.migrations import migrate


def _database(data_dir: Path) -> Engine:
    """The router's default database in `data_dir`, migrated."""
    engine = open_engine(database_url(None, data_dir))
    migrate(engine)
    return engine


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(_database(tmp_path))


def test_a_created_key_verifies_and_only_its_hash_is_stored(
    tmp_path: Path, store: KeyStore
) -> None:
    key, record = store.create("alice", frozenset({Scope.SPEECH, Scope.VOICES}), "laptop")

    found = store.verify(key)

    assert found == record
    assert found.scopes == {Scope.SPEECH, Scope.VOICES}
    assert key.startswith("sk-chorus-" + record.key_id)
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(SQLITE_FILE))
    assert key.encode() not in on_disk


def test_near_misses_do_not_verify(store: KeyStore) -> None:
    key, _ = store.create("alice", frozenset({Scope.SPEECH}))
    other_id = "sk-chorus-000000000000" + key[len("sk-chorus-") + 12 :]

    for candidate in (key[:-1] + ("A" if key[-1] != "A" else "B"), key + "x", other_id, "", "sk-"):
        assert store.verify(candidate) is None


def test_revoked_keys_are_known_but_marked(store: KeyStore) -> None:
    key, record = store.create("bob", frozenset({Scope.ADMIN}))

    assert store.revoke(record.key_id)
    assert not store.revoke(record.key_id)
    revoked = store.verify(key)
    assert revoked is not None
    assert revoked.revoked
    assert [r.key_id for r in store.list()] == [record.key_id]


def test_the_store_survives_a_restart(tmp_path: Path) -> None:
    first = _database(tmp_path)
    key, _ = KeyStore(first).create("carol", frozenset({Scope.SPEECH}))
    first.dispose()

    assert KeyStore(_database(tmp_path)).verify(key) is not None


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI finds the database where the router would: by default in its data_dir."""
    env = {**os.environ, "CHORUS_ROUTER_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "chorus_router.cli.keys", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_creates_lists_and_revokes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    created = _cli(data_dir, "create", "--user", "dana", "--scope", "speech", "--scope", "admin")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    key_id = KeyStore(_database(data_dir)).verify(key).key_id  # type: ignore[union-attr]

    listing = _cli(data_dir, "list")
    assert key_id in listing.stdout
    assert "admin,speech" in listing.stdout
    assert key not in listing.stdout + listing.stderr

    assert _cli(data_dir, "revoke", key_id).returncode == 0
    assert "revoked" in _cli(data_dir, "list").stdout
    again = _cli(data_dir, "revoke", key_id)
    assert again.returncode != 0
    assert "no active key" in again.stderr


def test_cli_gives_a_key_default_lexicons(tmp_path: Path) -> None:
    lexicon = "lex_" + "0" * 24
    created = _cli(tmp_path, "create", "--user", "fay", "--lexicon", lexicon)
    assert created.returncode == 0, created.stderr
    record = KeyStore(_database(tmp_path)).verify(created.stdout.strip())
    assert record is not None
    assert record.lexicons == (lexicon,)
    refused = _cli(tmp_path, "create", "--user", "fay", "--lexicon", "names")
    assert refused.returncode == 2
    assert "not a lexicon id" in refused.stderr


def test_cli_refuses_unknown_scopes(tmp_path: Path) -> None:
    result = _cli(tmp_path, "create", "--user", "erin", "--scope", "root")

    assert result.returncode == 2
    assert "invalid Scope value" in result.stderr


def test_the_table_holds_a_hash_and_no_key_column(tmp_path: Path) -> None:
    columns = {c["name"] for c in inspect(_database(tmp_path)).get_columns("api_keys")}

    assert "key_sha256" in columns
    assert "key" not in columns
