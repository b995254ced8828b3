"""A live session's text, held only until a piece of it can be spoken.

Text arrives in fragments as an LLM writes it. A piece leaves as soon as the words after it
can no longer change it: a turn's short first piece once its clause or phrase boundary is
certain (the text front-end's `first_piece`), then whole sentences once the next one has
begun. A trailing word may be incomplete ("i" of "in"), so the first piece's boundary is
decided from words followed by whitespace only; `flush` releases everything.
"""

from __future__ import annotations

from chorus_contracts import TextChunking
from chorus_text import first_piece, split_sentences

# Where the turn's provider says nothing of how it chunks, pieces as local engines cut them.
DEFAULT_CHUNKING = TextChunking(max_chars=300, first_piece_max_words=10)


class TextBuffer:
    """The text of the turn being written, and the pieces of it ready to be spoken."""

    def __init__(self) -> None:
        self._text = ""
        # Whether the turn's first piece has left: later pieces are whole sentences.
        self._started = False
        self.chunking = DEFAULT_CHUNKING
        self.language: str | None = None

    @property
    def empty(self) -> bool:
        return not self._text.strip()

    @property
    def held_chars(self) -> int:
        return len(self._text)

    def append(self, text: str) -> list[str]:
        """Add a fragment; the pieces it made ready, in order (often none)."""
        self._text += text
        # Every piece but the last is settled: the text after it has begun.
        pieces = self._split(self._text)
        ready, held = pieces[:-1], pieces[-1] if pieces else ""
        if not ready and not self._started and held:
            # The first piece's boundary, from complete words only ("i" may become "in").
            words = held.split(" ")
            complete = words if self._text[-1:].isspace() else words[:-1]
            cut = first_piece(complete, self.chunking.first_piece_max_words, self.language)
            if cut is not None:
                ready, held = [" ".join(words[:cut])], " ".join(words[cut:])
        trailing = " " if held and self._text[-1:].isspace() else ""
        self._text = held + trailing
        if ready:
            self._started = True
        return ready

    def flush(self) -> list[str]:
        """Everything held, as pieces; the next text starts a new turn."""
        pieces = self._split(self._text)
        self.clear()
        return pieces

    def clear(self) -> None:
        self._text = ""
        self._started = False

    def _split(self, text: str) -> list[str]:
        first_words = 0 if self._started else self.chunking.first_piece_max_words
        return split_sentences(text, self.chunking.max_chars, first_words, self.language)
