"""The voice store on a real SQLite file: scoping, quotas, migrations, deletion."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from chorus_contracts import (
    ConfigurationError,
    Conflict,
    QuotaExceeded,
    UnknownConsent,
    UnknownVoice,
)
from chorus_router.settings import RouterSettings
from chorus_router.storage.database import SQLITE_FILE, database_url, open_engine
from chorus_router.storage.migrations import MIGRATIONS, migrate
from chorus_router.voices.processing import ProcessedSample
from chorus_router.voices.records import NewVoice, Quotas
from chorus_router.voices.store import VoiceStore


@pytest.fixture
def store(tmp_path: Path) -> VoiceStore:
    engine = open_engine(database_url(None, tmp_path))
    migrate(engine)
    return VoiceStore(engine, Quotas(2, 1_000_000))


def _voice(consent: str, original: bytes = b"original-audio" * 10) -> NewVoice:
    sample = ProcessedSample(
        wav=b"RIFF-processed" * 10, sample_rate=24_000, duration_s=4.0, sha256="ab" * 32
    )
    return NewVoice("Voice", None, None, consent, "wav", "pcm_s16le", 1, original, sample)


def test_migrations_apply_once(tmp_path: Path) -> None:
    engine = open_engine(database_url(None, tmp_path))
    assert migrate(engine) == [m.version for m in MIGRATIONS]
    assert migrate(engine) == []


def test_everything_is_scoped_to_its_owner(store: VoiceStore) -> None:
    consent = store.add_consent("alice", "Consent", "en", b"recording")
    voice = store.add_voice("alice", _voice(consent.id))
    assert [v.id for v in store.voices("alice")] == [voice.id]
    assert store.voices("bob") == []
    for call in (store.voice, store.sample, store.delete_voice):
        with pytest.raises(UnknownVoice):
            call("bob", voice.id)
    with pytest.raises(UnknownConsent):
        store.add_voice("bob", _voice(consent.id))
    with pytest.raises(UnknownConsent):
        store.consent("bob", consent.id)
    assert store.sample("alice", voice.id)[1] == b"RIFF-processed" * 10


def test_a_consent_in_use_cannot_be_deleted(store: VoiceStore) -> None:
    consent = store.add_consent("alice", "Consent", "en", b"recording")
    voice = store.add_voice("alice", _voice(consent.id))
    with pytest.raises(Conflict, match="1 voice"):
        store.delete_consent("alice", consent.id)
    store.delete_voice("alice", voice.id)
    store.delete_consent("alice", consent.id)


def test_quotas_hold_under_concurrent_uploads(store: VoiceStore) -> None:
    consent = store.add_consent("alice", "Consent", "en", b"r")

    def attempt(_: int) -> str:
        try:
            store.add_voice("alice", _voice(consent.id))
        except QuotaExceeded as exc:
            return exc.message
        return "stored"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert outcomes.count("stored") == 2
    assert all("2 of 2 voices" in o for o in outcomes if o != "stored")


def test_byte_quota(tmp_path: Path) -> None:
    engine = open_engine(database_url(None, tmp_path))
    migrate(engine)
    store = VoiceStore(engine, Quotas(10, 500))
    consent = store.add_consent("alice", "Consent", "en", b"r" * 100)
    with pytest.raises(QuotaExceeded, match="storage quota reached: 100 of 500 bytes"):
        store.add_voice("alice", _voice(consent.id, original=b"x" * 400))


def test_deleting_a_voice_removes_its_audio_from_the_file(tmp_path: Path) -> None:
    engine = open_engine(database_url(None, tmp_path))
    migrate(engine)
    store = VoiceStore(engine, Quotas(2, 1_000_000))
    consent = store.add_consent("alice", "Consent", "en", b"recording")
    marker = b"unmistakable-voice-audio-" * 40
    voice = store.add_voice("alice", _voice(consent.id, original=marker))
    store.delete_voice("alice", voice.id)
    engine.dispose()
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(SQLITE_FILE))
    assert marker[:200] not in on_disk


def test_database_url_setting() -> None:
    url = RouterSettings(database_url="postgresql://u:secret@db/chorus").database_url
    assert url is not None
    assert "secret" not in repr(url)
    assert database_url(url.get_secret_value(), Path("x")).drivername == "postgresql+psycopg"
    assert str(database_url(None, Path("/data"))) == f"sqlite:////data/{SQLITE_FILE}"
    with pytest.raises(ConfigurationError, match="database_url") as refused:
        RouterSettings.load(database_url="mysql://u:secret@db/chorus")
    assert "secret" not in str(refused.value)
