"""The key store and the admin CLI: keys are shown once, stored hashed, and revocable."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from chorus_router.identity import Scope
from chorus_router.security.keys import KeyStore


def test_a_created_key_verifies_and_only_its_hash_is_stored(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.db")
    key, record = store.create("alice", frozenset({Scope.SPEECH, Scope.VOICES}), "laptop")

    found = store.verify(key)

    assert found == record
    assert found.scopes == {Scope.SPEECH, Scope.VOICES}
    assert key.startswith("sk-chorus-" + record.key_id)
    assert key.encode() not in (tmp_path / "keys.db").read_bytes()


def test_near_misses_do_not_verify(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.db")
    key, _ = store.create("alice", frozenset({Scope.SPEECH}))
    other_id = "sk-chorus-000000000000" + key[len("sk-chorus-") + 12 :]

    for candidate in (key[:-1] + ("A" if key[-1] != "A" else "B"), key + "x", other_id, "", "sk-"):
        assert store.verify(candidate) is None


def test_revoked_keys_are_known_but_marked(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.db")
    key, record = store.create("bob", frozenset({Scope.ADMIN}))

    assert store.revoke(record.key_id)
    assert not store.revoke(record.key_id)
    revoked = store.verify(key)
    assert revoked is not None
    assert revoked.revoked
    assert [r.key_id for r in store.list()] == [record.key_id]


def test_the_store_survives_a_restart(tmp_path: Path) -> None:
    key, _ = KeyStore(tmp_path / "keys.db").create("carol", frozenset({Scope.SPEECH}))

    assert KeyStore(tmp_path / "keys.db").verify(key) is not None


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI finds the store where the router would: in the router's data_dir."""
    env = {**os.environ, "CHORUS_ROUTER_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "chorus_router.security.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_creates_lists_and_revokes(tmp_path: Path) -> None:
    store = tmp_path / "data" / "api_keys.sqlite3"
    created = _cli(
        store.parent, "create", "--user", "dana", "--scope", "speech", "--scope", "admin"
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    key_id = KeyStore(store).verify(key).key_id  # type: ignore[union-attr]

    listing = _cli(store.parent, "list")
    assert key_id in listing.stdout
    assert "admin,speech" in listing.stdout
    assert key not in listing.stdout + listing.stderr

    assert _cli(store.parent, "revoke", key_id).returncode == 0
    assert "revoked" in _cli(store.parent, "list").stdout
    again = _cli(store.parent, "revoke", key_id)
    assert again.returncode != 0
    assert "no active key" in again.stderr


def test_cli_refuses_unknown_scopes(tmp_path: Path) -> None:
    result = _cli(tmp_path, "create", "--user", "erin", "--scope", "root")

    assert result.returncode == 2
    assert "invalid Scope value" in result.stderr


def test_the_schema_is_one_table_without_key_column(tmp_path: Path) -> None:
    KeyStore(tmp_path / "keys.db")
    with sqlite3.connect(tmp_path / "keys.db") as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(api_keys)")]
    assert "key_hash" in columns
    assert "key" not in columns
