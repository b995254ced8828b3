"""Speaker scripts: `SPEAKER: line` lines, each spoken in its speaker's voice.

A `# Heading` line starts a chapter; a line without a `SPEAKER:` prefix continues the turn
before it. A chapter's text keeps one `SPEAKER: line` per turn, so its pieces (each within
one turn) come out the same way every time it is read, and a resumed job finds its
checkpoints by position.
"""

from __future__ import annotations

import re

from chorus_contracts import InvalidRequest
from chorus_router.jobs.chapters import Chapter, Piece, pieces

_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t]*#*[ \t]*$")
# A name of a few words, a colon and a space (so that "12:30" or a URL starts no turn).
_TURN = re.compile(r"^[ \t]*(\w[\w .'-]{0,39}?)[ \t]*:[ \t]+(.*)$")
MAX_SPEAKERS = 32


def script_chapters(document: str, voices: dict[str, str], untitled: str) -> list[Chapter]:
    """The script's chapters; 400 for a line before any speaker or an unknown speaker."""
    chapters: list[Chapter] = []
    title, turns = untitled, list[tuple[str, str]]()
    for number, line in enumerate(document.splitlines(), start=1):
        heading = _HEADING.match(line)
        turn = _TURN.match(line)
        if heading:
            _close(chapters, title, turns)
            title, turns = heading.group(1) or untitled, []
        elif turn:
            speaker = turn.group(1).strip()
            if speaker not in voices:
                raise _unknown(speaker, number, voices)
            turns.append((speaker, turn.group(2).strip()))
        elif line.strip():
            if not turns:
                raise InvalidRequest(
                    f"script line {number} has no speaker: each turn starts `SPEAKER: `",
                    param="input",
                )
            speaker, text = turns[-1]
            turns[-1] = (speaker, f"{text} {line.strip()}".strip())
    _close(chapters, title, turns)
    return chapters


def turn_pieces(text: str, voices: dict[str, str], max_chars: int) -> list[Piece]:
    """A script chapter's pieces, each within one turn and in its speaker's voice."""
    made: list[Piece] = []
    for line in text.splitlines():
        speaker, _, words = line.partition(": ")
        made.extend(Piece(p, voices[speaker]) for p in pieces(words, max_chars))
    return made


def _close(chapters: list[Chapter], title: str, turns: list[tuple[str, str]]) -> None:
    spoken = [(s, t) for s, t in turns if any(ch.isalnum() for ch in t)]
    if spoken:
        chapters.append(Chapter(title, "\n".join(f"{s}: {t}" for s, t in spoken)))


def _unknown(speaker: str, line: int, voices: dict[str, str]) -> InvalidRequest:
    known = ", ".join(sorted(voices))
    return InvalidRequest(
        f"script line {line}: speaker '{speaker}' has no voice in `voices` (it has {known})",
        param="voices",
    )
