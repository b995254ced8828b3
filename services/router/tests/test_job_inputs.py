"""Speaker scripts and EPUB bounds, without a router: what becomes a turn, a chapter and a
piece, and what is refused."""

from __future__ import annotations

import io
import zipfile

import pytest

from chorus_contracts import InvalidRequest
from chorus_router.jobs.chapters import Chapter, Piece
from chorus_router.jobs.epub import EpubBounds, epub_chapters
from chorus_router.jobs.script import script_chapters, turn_pieces

VOICES = {"ANN": "alloy", "Dr. Ben": "echo"}


def test_headings_start_chapters_and_plain_lines_continue_a_turn() -> None:
    script = (
        "# Morning\n"
        "ANN: We met at 12:30, by the pier.\n"
        "It was cold.\n"
        "\n"
        "Dr. Ben: See https://example.com: no.\n"
        "## Evening\n"
        "ANN: Goodnight."
    )
    assert script_chapters(script, VOICES, "Untitled") == [
        Chapter(
            "Morning",
            "ANN: We met at 12:30, by the pier. It was cold.\n"
            "Dr. Ben: See https://example.com: no.",
        ),
        Chapter("Evening", "ANN: Goodnight."),
    ]


def test_a_turns_pieces_are_in_its_speakers_voice() -> None:
    text = "ANN: One. Two.\nDr. Ben: Three."
    assert turn_pieces(text, VOICES, 400) == [Piece("One. Two.", "alloy"), Piece("Three.", "echo")]


def test_an_unknown_speaker_is_named() -> None:
    with pytest.raises(InvalidRequest, match="line 2: speaker 'CARL'") as refused:
        script_chapters("ANN: Hi.\nCARL: Hello.", VOICES, "Untitled")
    assert refused.value.param == "voices"


def test_an_epub_unpacking_past_the_bound_is_refused_unread() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/epub+zip")
        archive.writestr("text.xhtml", b"a" * 5000)
    with pytest.raises(InvalidRequest, match="unpacks to 5020 bytes \\(at most 4096\\)"):
        epub_chapters(out.getvalue(), EpubBounds(max_unpacked_bytes=4096))
