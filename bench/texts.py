"""The texts every benchmark speaks: one short sentence and a text of about 500 words."""

from __future__ import annotations

SHORT = "Hello there, this is a short sentence to measure."

_PARAGRAPH = (
    "The morning train left the station a few minutes late, and nobody on board seemed to "
    "mind. A woman near the window read a thick novel while her son counted the cows in the "
    "fields. Two students argued quietly about a problem set that was due before noon. The "
    "conductor walked slowly through the carriages, checking tickets and answering questions "
    "about connections. Outside, the fog lifted from the river and the hills turned green in "
    "the early light. "
)
LONG = (_PARAGRAPH * 8).strip()
MEDIUM = _PARAGRAPH.strip()


def words(text: str) -> int:
    return len(text.split())
