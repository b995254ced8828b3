"""Plain text and Markdown into chapters, and chapters into the pieces sent to a provider.

A heading of the shallowest level the document uses starts a chapter, and its title is the
chapter's first spoken sentence; deeper headings stay inside their chapter as sentences.
Text before the first heading is a chapter of its own. Markdown's marks (emphasis, links,
list bullets, code fences) are dropped, their words kept. The same text always gives the
same pieces, so a resumed job finds its checkpoints by position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chorus_contracts import SpeechSegment
from chorus_text import split_sentences

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MARKS = re.compile(r"(\*\*|__|\*|`+|~~)")
_QUOTE = re.compile(r"^ {0,3}(?:>[ \t]?)*")
_ITEM = re.compile(r"^(?:[-*+]|\d{1,9}[.)])[ \t]+")
_RULE = re.compile(r"^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$")


@dataclass(frozen=True)
class Chapter:
    title: str
    text: str


@dataclass(frozen=True)
class Piece:
    """One synthesis call of a job: whole sentences, in one voice; from an SSML document,
    with the compiled segments it speaks (its `text` is their words)."""

    text: str
    voice: str
    segments: tuple[SpeechSegment, ...] | None = None


def markdown_chapters(document: str, untitled: str) -> list[Chapter]:
    """The chapters of a plain-text or Markdown `document`; the text before the first
    heading is titled `untitled`. Chapters without words are left out."""
    lines = document.splitlines()
    headings = {index: (level, text) for index, level, text in _headings(lines)}
    top = min((level for level, _ in headings.values()), default=0)
    underlines = {index + 1 for index in headings if _is_setext(lines, index)}
    chapters: list[Chapter] = []
    title: str | None = None
    body: list[str] = []
    for index, line in enumerate(lines):
        if index in underlines:
            continue
        heading = headings.get(index)
        if heading is None:
            body.append(_plain_line(line))
        elif heading[0] == top:
            _close(chapters, title, untitled, body)
            title, body = _inline(heading[1]), []
        else:
            body.append(_sentence(heading[1]))
    _close(chapters, title, untitled, body)
    return chapters


def pieces(text: str, max_chars: int) -> list[str]:
    """`text` as pieces of whole sentences, each at most `max_chars` long (a longer
    sentence is cut at clause marks, as the providers' own splitter does)."""
    packed: list[str] = []
    for sentence in split_sentences(text, max_chars):
        if packed and len(packed[-1]) + 1 + len(sentence) <= max_chars:
            packed[-1] = f"{packed[-1]} {sentence}"
        else:
            packed.append(sentence)
    return packed


def _headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line index, level, title) of each heading outside code fences."""
    found: list[tuple[int, int, str]] = []
    fenced = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        atx = _ATX.match(line)
        if atx and atx.group(2):
            found.append((index, len(atx.group(1)), atx.group(2)))
        elif _is_setext(lines, index) and not _RULE.match(line):
            found.append((index, 1 if lines[index + 1].lstrip()[0] == "=" else 2, line.strip()))
    return found


def _is_setext(lines: list[str], index: int) -> bool:
    """A text line underlined by `===` or `---` (not a list item, not after a blank)."""
    if index + 1 >= len(lines) or not lines[index].strip():
        return False
    line = lines[index]
    if _ATX.match(line) or _QUOTE.sub("", line) != line or _ITEM.match(line.lstrip()):
        return False
    return _SETEXT.match(lines[index + 1]) is not None


def _plain_line(line: str) -> str:
    """A body line as spoken text; a list item is a sentence of its own."""
    if _FENCE.match(line) or _RULE.match(line):
        return ""
    unquoted = _QUOTE.sub("", line)
    item = _ITEM.sub("", unquoted)
    return _sentence(item) if item != unquoted else _inline(item)


def _inline(text: str) -> str:
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    return _MARKS.sub("", text).strip()


def _sentence(heading: str) -> str:
    """A heading spoken as a sentence of its own."""
    text = _inline(heading)
    return text if not text or text[-1] in ".!?:;" else f"{text}."


def _close(chapters: list[Chapter], title: str | None, untitled: str, body: list[str]) -> None:
    """Add the chapter read so far; a titled one starts by speaking its title."""
    text = _paragraphs(body)
    if title is not None:
        text = f"{_sentence(title)}\n\n{text}".strip()
    if any(ch.isalnum() for ch in text):
        chapters.append(Chapter(title or untitled, text))


def _paragraphs(lines: list[str]) -> str:
    """Lines joined into paragraphs; a blank line ends one."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    return "\n\n".join(paragraphs)
