"""The job rows on SQLite and PostgreSQL: a script's voices and the provider-down option
round-trip, a chapter redone forgets its pieces and progress, the gauges' counts, the
daily characters, and the lexicons a job resolved outlive the lexicons themselves."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from chorus_contracts import RateLimited
from chorus_router.jobs.chapters import Chapter
from chorus_router.jobs.records import (
    JobBounds,
    JobLexicons,
    JobSpec,
    JobStatus,
    JobStore,
    ProviderDown,
)
from chorus_router.lexicons.settings import LexiconSettings
from chorus_router.lexicons.store import LexiconStore
from chorus_router.storage.database import database_url, open_engine
from chorus_router.storage.migrations import migrate
from chorus_text.lexicon import LexiconEntry
from support.postgres_server import PostgresServer

SPEC = JobSpec(
    model="tts-1",
    voice="alloy",
    response_format="mp3",
    speed=1.0,
    lang_code=None,
    title="Play",
    voices={"ANN": "alloy", "BEN": "echo"},
    on_provider_down=ProviderDown.WAIT,
)
BOUNDS = JobBounds(max_active=10, max_chars_per_day=50)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine: Engine = open_engine(database_url(None, tmp_path))
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        url = server.create_database(f"jobs_{tmp_path.name[-8:].lower()}_{time.time_ns() % 10**6}")
        engine = open_engine(database_url(url, tmp_path))
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> JobStore:
    return JobStore(engine)


def test_a_chapter_redone_forgets_its_pieces_and_its_provider(store: JobStore) -> None:
    chapters = [(Chapter("One", "ANN: Hi."), 2), (Chapter("Two", "BEN: Bye."), 1)]
    job = store.create("alice", SPEC, chapters, BOUNDS)
    assert job.spec == SPEC
    assert store.start(job.id)
    assert store.checkpoint(job.id, 0, 0, 24_000, 24_000, "piper")
    assert store.checkpoint(job.id, 0, 1, 12_000, 24_000, None)
    assert store.checkpoint(job.id, 1, 0, 48_000, 24_000, "espeak")
    assert store.get(job.id, None).audio_s == pytest.approx(3.5)

    store.reset_chapter(job.id, 0)
    after = store.get(job.id, None)
    assert (after.pieces_done, after.audio_s) == (1, pytest.approx(2.0))
    assert [(c.provider, c.sample_rate) for c in store.chapters(job.id)] == [
        (None, None),
        ("espeak", 24_000),
    ]
    assert set(store.checkpoints(job.id)) == {(1, 0)}
    assert store.active() == {JobStatus.RUNNING: (1, after.updated_us)}


def test_a_days_characters_are_bounded_per_user(store: JobStore) -> None:
    thirty = [(Chapter("One", "x" * 30), 1)]
    store.create("alice", SPEC, thirty, BOUNDS)
    with pytest.raises(RateLimited, match="at most 50 a day") as refused:
        store.create("alice", SPEC, thirty, BOUNDS)
    assert 86_000 < (refused.value.retry_after or 0) <= 86_400
    store.create("bob", SPEC, thirty, BOUNDS)


def test_a_job_keeps_the_entries_it_resolved_once_its_lexicon_is_deleted(
    engine: Engine, store: JobStore
) -> None:
    lexicons = LexiconStore(engine, LexiconSettings())
    entries = (LexiconEntry("Nguyen", alias="win"), LexiconEntry("Siobhan", phoneme="ʃɪˈvɔːn"))
    made = lexicons.add("alice", "names", None, entries)
    applied = lexicons.applied("alice", [made.id], ())
    assert applied is not None
    spec = replace(SPEC, lexicons=JobLexicons.of(applied))
    job = store.create("alice", spec, [(Chapter("One", "Hi, Nguyen."), 1)], BOUNDS)
    assert job.spec == spec

    lexicons.delete("alice", made.id)
    # What a worker reads, after a restart too: the entries as they were at submission.
    kept = store.get(job.id, None).spec.lexicons
    assert kept is not None
    assert kept.ids == [made.id]
    assert kept.applied.versions == applied.versions
    assert kept.applied.lexicon.entries == entries
