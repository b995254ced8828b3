"""Plain text and Markdown into a job's chapters, and chapters into pieces."""

from __future__ import annotations

from chorus_router.jobs.chapters import Chapter, markdown_chapters, pieces


def test_headings_start_chapters_and_are_spoken_first() -> None:
    document = "# One\n\nFirst text.\n\n# Two\n\nSecond text.\n"
    assert markdown_chapters(document, "Book") == [
        Chapter("One", "One.\n\nFirst text."),
        Chapter("Two", "Two.\n\nSecond text."),
    ]


def test_text_before_the_first_heading_is_a_chapter_of_its_own() -> None:
    chapters = markdown_chapters("A preface.\n\n# One\n\nBody.", "My Book")
    assert [c.title for c in chapters] == ["My Book", "One"]
    assert chapters[0].text == "A preface."


def test_plain_text_is_one_chapter_under_the_given_title() -> None:
    assert markdown_chapters("Just words.\nMore words.", "Notes") == [
        Chapter("Notes", "Just words. More words.")
    ]


def test_the_shallowest_heading_level_makes_chapters_deeper_ones_stay_inside() -> None:
    document = "## Part A\n\nText.\n\n### Detail\n\nMore.\n\n## Part B\n\nEnd."
    chapters = markdown_chapters(document, "Book")
    assert [c.title for c in chapters] == ["Part A", "Part B"]
    assert chapters[0].text == "Part A.\n\nText.\n\nDetail.\n\nMore."


def test_setext_headings_count_and_a_rule_does_not() -> None:
    document = "Alpha\n=====\n\nOne.\n\n---\n\nBeta\n=====\n\nTwo."
    chapters = markdown_chapters(document, "Book")
    assert [c.title for c in chapters] == ["Alpha", "Beta"]
    assert chapters[0].text == "Alpha.\n\nOne."


def test_marks_are_dropped_and_their_words_kept() -> None:
    document = (
        "# The *first* `one`\n\n"
        "Read **this** [page](http://example.com) ![a map](map.png).\n\n"
        "> Quoted line\n\n"
        "- milk\n- bread\n1. first\n"
    )
    (chapter,) = markdown_chapters(document, "Book")
    assert chapter.title == "The first one"
    assert chapter.text == (
        "The first one.\n\nRead this page a map.\n\nQuoted line\n\nmilk. bread. first."
    )


def test_a_heading_inside_a_code_fence_is_not_a_chapter() -> None:
    document = "# Real\n\n```\n# not a heading\n```\n"
    assert [c.title for c in markdown_chapters(document, "Book")] == ["Real"]


def test_chapters_without_words_are_left_out() -> None:
    assert markdown_chapters("  \n\n---\n", "Book") == []
    assert [c.title for c in markdown_chapters("# !!!\n\n# Two\n\nWords.", "B")] == ["Two"]


def test_pieces_pack_whole_sentences_up_to_the_bound() -> None:
    text = "One two. Three four five. Six. " * 5
    made = pieces(text, 40)
    assert all(len(p) <= 40 for p in made)
    assert " ".join(made) == " ".join(text.split())
    assert all(p.endswith(".") for p in made)


def test_pieces_are_the_same_every_time() -> None:
    text = "A sentence here. " * 50
    assert pieces(text, 100) == pieces(text, 100)
