"""Cursor pages over a table, in the order rows were made: the keyset way, so a page costs
the same however deep it is, and a row made or deleted meanwhile never shifts another page.

A page starts after a cursor row (the last of the page before), which its store looks up
first, so that an unknown cursor gets that store's own 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, tuple_


def keyset_page(
    conn: Connection,
    query: Select[Any],
    key: tuple[ColumnElement[Any], ColumnElement[Any]],
    after: tuple[Any, Any] | None,
    limit: int,
    *,
    newest_first: bool = False,
) -> tuple[Sequence[Row[Any]], bool]:
    """`limit` rows of `query` ordered by `key` (creation time, then id to break ties),
    starting after the row whose key is `after`; and whether more rows follow."""
    created, row_id = key
    if after is not None:
        position, mark = tuple_(created, row_id), tuple_(*after)
        query = query.where(position < mark if newest_first else position > mark)
    order = (created.desc(), row_id.desc()) if newest_first else (created, row_id)
    rows = conn.execute(query.order_by(*order).limit(limit + 1)).all()
    return rows[:limit], len(rows) > limit
