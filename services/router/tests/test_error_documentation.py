"""Every error the router can answer with is in its OpenAPI document."""

from __future__ import annotations

from chorus_contracts.errors import taxonomy
from chorus_router.api.openapi import ERROR_STATUSES


def test_every_status_of_the_taxonomy_is_documented() -> None:
    statuses = {str(cls.status) for cls in taxonomy()}
    assert statuses - ERROR_STATUSES.keys() == set()


def test_no_status_is_documented_that_nothing_answers_with() -> None:
    statuses = {str(cls.status) for cls in taxonomy()}
    assert ERROR_STATUSES.keys() - statuses == set()
