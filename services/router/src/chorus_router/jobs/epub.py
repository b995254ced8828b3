"""An EPUB into chapters, one per entry of its table of contents (EbookLib reads the book).

The zip is checked before EbookLib opens it, since EbookLib unpacks every item into memory:
its entries, their declared sizes and their compression ratios are bounded (Python's zip
reader stops an entry at its declared size, so the declared sizes bound what is unpacked).
A top-level entry of the table of contents starts a chapter at its document, or at the
element its `#fragment` names; the chapter runs, in spine order, to the next entry. Text
before the first entry (cover, title page) is not spoken.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ebooklib
from ebooklib import epub
from lxml import etree, html

from chorus_contracts import InvalidRequest
from chorus_router.jobs.chapters import Chapter

# A deflated entry that unpacks to more than this many times its packed size is a zip bomb
# (text compresses about 3 to 10 times); small entries may compress better, harmlessly.
_MAX_RATIO = 100
_RATIO_FLOOR_BYTES = 1024 * 1024
_MAX_ENTRIES = 10_000
_BLOCKS = frozenset(
    [
        "p",
        "div",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "blockquote",
        "section",
        "article",
        "br",
        "tr",
        "dt",
        "dd",
        "pre",
        "figcaption",
    ]
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_SILENT = frozenset({"script", "style", "head", "title"})


@dataclass(frozen=True)
class EpubBounds:
    max_unpacked_bytes: int


def epub_chapters(data: bytes, bounds: EpubBounds) -> list[Chapter]:
    """The book's chapters; 400 naming the problem for a file that is not a readable EPUB,
    one that unpacks too far (a zip bomb) or one without a table of contents."""
    _check_zip(data, bounds)
    try:
        book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": False})
    # EbookLib reports a broken book with whatever its zip and XML readers raise.
    except Exception as exc:
        raise _bad(f"it is not a readable EPUB ({type(exc).__name__}: {exc})") from None
    starts = _toc_starts(book.toc)
    if not starts:
        raise _bad("its table of contents lists no chapters")
    return _chapters(book, starts)


def _check_zip(data: bytes, bounds: EpubBounds) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as exc:
        raise _bad(f"it is not a zip archive, as an EPUB is ({exc})") from None
    if len(entries) > _MAX_ENTRIES:
        raise _bad(f"it has {len(entries)} entries (at most {_MAX_ENTRIES})")
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > bounds.max_unpacked_bytes:
        raise _bad(
            f"it unpacks to {unpacked} bytes (at most {bounds.max_unpacked_bytes}): a zip bomb?"
        )
    for entry in entries:
        if entry.file_size > _RATIO_FLOOR_BYTES and entry.file_size > _MAX_RATIO * max(
            entry.compress_size, 1
        ):
            raise _bad(
                f"its entry {entry.filename!r} unpacks {entry.file_size // entry.compress_size}"
                f" times its packed size (at most {_MAX_RATIO}): a zip bomb?"
            )


def _bad(problem: str) -> InvalidRequest:
    return InvalidRequest(f"the file is refused: {problem}", param="file")


def _toc_starts(toc: list[Any]) -> list[tuple[str, str | None, str]]:
    """(document, fragment or None, title) of each top-level entry of the table of
    contents; a section without a link of its own starts at its first child's."""
    starts = []
    for entry in toc:
        title, link = _entry(entry)
        if link:
            document, _, fragment = link.partition("#")
            starts.append((document, fragment or None, title.strip() or "Untitled"))
    return starts


def _entry(entry: Any) -> tuple[str, str]:
    if isinstance(entry, tuple) and len(entry) == 2:
        section, children = entry
        href = getattr(section, "href", "") or next(
            (link for _, link in map(_entry, children) if link), ""
        )
        return str(getattr(section, "title", "")), href
    return str(getattr(entry, "title", "")), str(getattr(entry, "href", ""))


def _chapters(book: epub.EpubBook, starts: list[tuple[str, str | None, str]]) -> list[Chapter]:
    """Walk the spine's documents in order, starting a chapter at each start mark."""
    marks = {(document, fragment): title for document, fragment, title in starts}
    chapters: list[tuple[str, list[str]]] = []
    for item_id, _ in book.spine:
        item = book.get_item_with_id(item_id)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        name = item.get_name()
        if (name, None) in marks:
            chapters.append((marks[(name, None)], []))
        for element_id, text in _blocks(name, item.get_content()):
            if element_id is not None and (name, element_id) in marks:
                chapters.append((marks[(name, element_id)], []))
            if chapters and text:
                chapters[-1][1].append(text)
    return [
        Chapter(title, "\n\n".join(paragraphs))
        for title, paragraphs in chapters
        if any(ch.isalnum() for p in paragraphs for ch in p)
    ]


def _blocks(name: str, content: bytes) -> Iterator[tuple[str | None, str]]:
    """(id of an element that starts here, or None; text of the block ending here), in
    document order: each block element's text is a paragraph of its own."""
    if not content.strip():
        return
    try:
        root = html.fromstring(content)
    except (etree.ParserError, ValueError) as exc:
        raise _bad(f"its document {name!r} cannot be read ({exc})") from None
    pending: list[str] = []

    def flush(heading: bool = False) -> str:
        text = " ".join(" ".join(pending).split())
        pending.clear()
        # A heading is spoken as a sentence of its own, with the pause after it.
        if heading and text and text[-1] not in ".!?:;":
            text += "."
        return text

    for event, element in etree.iterwalk(root, events=("start", "end")):
        if not isinstance(element.tag, str):  # a comment or processing instruction
            if event == "end" and element.tail:
                pending.append(element.tail)
            continue
        tag = element.tag.lower().rpartition("}")[2]
        if event == "start":
            element_id = element.get("id")
            if tag in _BLOCKS or element_id is not None:
                yield element_id, flush()
            if element.text and tag not in _SILENT:
                pending.append(element.text)
        else:
            if tag in _BLOCKS:
                yield None, flush(heading=tag in _HEADINGS)
            if element.tail:
                pending.append(element.tail)
    yield None, flush()
