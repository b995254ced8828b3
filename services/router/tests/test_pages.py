"""Keyset pages over a real SQLite table, with creation times that tie."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, create_engine, select

from chorus_router.storage.pages import keyset_page

_METADATA = MetaData()
_ROWS = Table(
    "rows",
    _METADATA,
    Column("id", String, primary_key=True),
    Column("owner", String, nullable=False),
    Column("created_us", Integer, nullable=False),
)
# Made in this order; b, c and d in the same microsecond (ties break by id).
_MADE = [("a", 1), ("c", 2), ("b", 2), ("d", 2), ("e", 3)]


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    _METADATA.create_all(engine)
    with engine.begin() as conn:
        conn.execute(_ROWS.insert(), [{"id": i, "owner": "o", "created_us": t} for i, t in _MADE])
        conn.execute(_ROWS.insert(), [{"id": "x", "owner": "other", "created_us": 2}])
    yield engine
    engine.dispose()


def _walk(engine: Engine, limit: int, newest_first: bool) -> list[tuple[list[str], bool]]:
    key = (_ROWS.c.created_us, _ROWS.c.id)
    query = select(_ROWS).where(_ROWS.c.owner == "o")
    pages: list[tuple[list[str], bool]] = []
    after = None
    with engine.begin() as conn:
        while True:
            rows, more = keyset_page(conn, query, key, after, limit, newest_first=newest_first)
            pages.append(([r.id for r in rows], more))
            if not more:
                return pages
            after = (rows[-1].created_us, rows[-1].id)


def test_pages_go_oldest_first_through_ties_and_say_when_more_follow(engine: Engine) -> None:
    assert _walk(engine, 2, newest_first=False) == [
        (["a", "b"], True),
        (["c", "d"], True),
        (["e"], False),
    ]


def test_pages_go_newest_first_too(engine: Engine) -> None:
    assert _walk(engine, 2, newest_first=True) == [
        (["e", "d"], True),
        (["c", "b"], True),
        (["a"], False),
    ]


def test_a_page_as_long_as_what_is_left_says_none_follow(engine: Engine) -> None:
    assert _walk(engine, 5, newest_first=False) == [(["a", "b", "c", "d", "e"], False)]
