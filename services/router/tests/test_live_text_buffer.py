"""When a live session's text becomes a piece to speak: as soon as later words cannot
change it, and no sooner."""

from __future__ import annotations

from chorus_contracts import TextChunking
from chorus_router.speech.live import TextBuffer


def _buffer() -> TextBuffer:
    buffer = TextBuffer()
    buffer.chunking = TextChunking(max_chars=300, first_piece_max_words=10)
    return buffer


def _stream(buffer: TextBuffer, text: str, size: int = 3) -> list[tuple[int, str]]:
    """Feed `text` a few characters at a time, as an LLM's tokens; each piece with the
    number of characters sent when it was released."""
    released = []
    for end in range(size, len(text) + size, size):
        released += [(min(end, len(text)), p) for p in buffer.append(text[end - size : end])]
    return released


def test_the_first_piece_leaves_at_its_clause_mark_once_the_next_word_begins() -> None:
    buffer = _buffer()
    assert buffer.append("Well, that is a good") == []
    assert buffer.append(" question") == []
    assert buffer.append(",") == []
    assert buffer.append(" a") == ["Well, that is a good question,"]


def test_a_partial_word_is_never_spoken_as_a_word() -> None:
    buffer = _buffer()
    # "i" could become "in" (a phrase boundary): nothing leaves until the word is complete.
    assert buffer.append("My old friend Bob said i") == []
    assert buffer.append("n ") == ["My old friend Bob said"]


def test_sentences_after_the_first_piece_leave_whole_and_in_order() -> None:
    text = (
        "Sure, here is the plan. First we pack the car. Then we drive to the coast, "
        "which takes about an hour. "
    )
    pieces = [p for _, p in _stream(_buffer(), text + "Finally")]
    assert pieces == [
        "Sure, here is the plan.",
        "First we pack the car.",
        "Then we drive to the coast, which takes about an hour.",
    ]


def test_a_sentence_leaves_before_the_text_ends() -> None:
    text = "Sure, here is the plan. First we pack the car. Then we"
    released = _stream(_buffer(), text)
    sent_when = dict((p, n) for n, p in released)
    assert sent_when["First we pack the car."] < len(text)


def test_flush_speaks_the_rest_and_starts_a_new_turn() -> None:
    buffer = _buffer()
    buffer.append("Okay, one moment please.")
    assert buffer.flush() == ["Okay, one moment please."]
    assert buffer.empty
    # The next turn has a short first piece again.
    assert buffer.append("Right, so the answer is forty two. ") == []
    assert buffer.append("It") == ["Right, so the answer is forty two."]


def test_an_abbreviation_does_not_end_a_sentence() -> None:
    buffer = _buffer()
    buffer.chunking = TextChunking(max_chars=300, first_piece_max_words=0)
    assert buffer.append("Ask Dr. ") == []
    assert buffer.append("Smith today. ") == []
    assert buffer.append("T") == ["Ask Dr. Smith today."]
