"""Job inputs beyond Markdown: an EPUB sent as a file becomes one chapter per entry of its
table of contents; a speaker script speaks each speaker in their voice; an SSML document is
spoken as its markup says; a lexicon's entries are heard in a job's chapters; a broken EPUB,
a zip bomb, bad SSML, an unknown speaker and an unknown lexicon are refused before anything
is queued."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from ebooklib import epub

from chorus_text.ssml.compiler import PARAGRAPH_PAUSE_MS
from support.jobs_stack import JobsRouter, finished
from support.transcribe import normalized_words, transcribe, word_error_rate

pytestmark = pytest.mark.e2e

TITLES = ["The Harbour", "The Market", "Night"]
RATE = 24_000
SPOKEN = {
    0: "The Harbour. The boats came in at dawn. Gulls followed them, crying over the grey water.",
    # Long enough that one word Whisper mishears (it once heard "whole town" as
    # "all-time") stays within the bound.
    2: "Night. Then the whole town went quiet. The lamps went out one by one, and the "
    "fishermen slept.",
}
# The bound the engine tests hold Whisper's hearing of Piper to.
WER_BOUND = 0.25


@pytest.fixture(scope="module")
def reader(jobs_router: JobsRouter) -> Iterator[httpx.Client]:
    with jobs_router.client("reader") as client:
        yield client


def _book() -> bytes:
    """Three chapters in two documents: the third starts at an anchor inside the second's
    document. A title page comes before the table of contents' first entry."""
    book = epub.EpubBook()
    book.set_identifier("chorus-test-book")
    book.set_title("Sea Stories")
    book.set_language("en")
    cover = epub.EpubHtml(title="Title page", file_name="title.xhtml", lang="en")
    cover.content = "<h1>Sea Stories</h1><p>Copyright nobody.</p>"
    harbour = epub.EpubHtml(title="The Harbour", file_name="harbour.xhtml", lang="en")
    harbour.content = (
        "<h1>The Harbour</h1><p>The boats came in at dawn.</p>"
        "<p>Gulls followed them, crying over the <em>grey</em> water.</p>"
    )
    market = epub.EpubHtml(title="The Market", file_name="market.xhtml", lang="en")
    market.content = (
        "<h1>The Market</h1><p>By noon the square was full of fishmongers and children, "
        "and an old man sold maps of coasts that no longer existed.</p>"
        '<h1 id="night">Night</h1><p>Then the whole town went quiet. The lamps went out one '
        "by one, and the fishermen slept.</p>"
    )
    for item in (cover, harbour, market):
        book.add_item(item)
    book.toc = [
        epub.Link("harbour.xhtml", "The Harbour", "harbour"),
        epub.Link("market.xhtml", "The Market", "market"),
        epub.Link("market.xhtml#night", "Night", "night"),
    ]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = [cover, "nav", harbour, market]
    out = io.BytesIO()
    epub.write_epub(out, book)
    return out.getvalue()


def _upload(client: httpx.Client, data: bytes, **fields: str) -> httpx.Response:
    form = {"model": "espeak", "voice": "alloy", **fields}
    return client.post(
        "/api/v1/audio/jobs",
        data=form,
        files={"file": ("book.epub", data, "application/epub+zip")},
    )


def _download_pcm(client: httpx.Client, output: dict[str, Any]) -> bytes:
    response = client.get(output["download_path"])
    assert response.status_code == 200
    return response.content


def test_an_epub_becomes_one_chapter_per_table_of_contents_entry(reader: httpx.Client) -> None:
    # Piper: Whisper hears it more surely than espeak-ng.
    response = _upload(reader, _book(), model="tts-1", response_format="pcm", title="Sea Stories")
    assert response.status_code == 202, response.text
    job = response.json()
    assert [c["title"] for c in job["chapters"]] == TITLES

    done = finished(reader, job["id"])
    assert done["status"] == "succeeded", done
    chapters = {o["chapter"]: o for o in done["outputs"] if o["kind"] == "chapter"}
    heard = {i: transcribe(_download_pcm(reader, chapters[i]), RATE) for i in (0, 2)}
    # The title page before the first entry is not spoken; the anchor split the second
    # document, so Night has its own words and none of the market's.
    assert word_error_rate(SPOKEN[0], heard[0]) <= WER_BOUND, heard[0]
    assert word_error_rate(SPOKEN[2], heard[2]) <= WER_BOUND, heard[2]


def _dominant_hz(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / RATE)[int(np.argmax(spectrum))])


def test_a_two_speaker_script_speaks_each_speaker_in_their_voice(reader: httpx.Client) -> None:
    script = "ANN: One two three four five.\nBEN: Six seven eight nine ten.\nANN: Eleven twelve."
    response = reader.post(
        "/api/v1/audio/jobs",
        json={
            "input": script,
            "model": "tone",
            "voice": "alloy",
            "voices": {"ANN": "alloy", "BEN": "echo"},
            "response_format": "pcm",
        },
    )
    assert response.status_code == 202, response.text
    done = finished(reader, response.json()["id"])
    assert done["status"] == "succeeded", done
    assert [c["provider"] for c in done["chapters"]] == ["tone-a"]
    chapter = next(o for o in done["outputs"] if o["kind"] == "chapter")
    pcm = _download_pcm(reader, chapter)
    # The tone engine speaks 0.1 s per word: alloy at 220 Hz, echo at 440 Hz.
    turns = [(0.0, 0.5, 220), (0.5, 1.0, 440), (1.0, 1.2, 220)]
    assert len(pcm) / 2 / RATE == pytest.approx(1.2, abs=0.02)
    for start, end, hz in turns:
        inner = pcm[int((start + 0.02) * RATE) * 2 : int((end - 0.02) * RATE) * 2]
        assert _dominant_hz(inner) == pytest.approx(hz, abs=5)


SSML = (
    "<speak><p><s>The boats came in at dawn.</s><s>Gulls followed them over the grey water."
    '</s></p><break time="2s"/><p>By noon the square was full of <say-as '
    'interpret-as="cardinal">12</say-as> fishmongers.</p><p>Children ran between the stalls '
    "with baskets of bread.</p></speak>"
)
SSML_SPOKEN = (
    "The boats came in at dawn. Gulls followed them over the grey water. By noon the square "
    "was full of twelve fishmongers. Children ran between the stalls with baskets of bread."
)


def test_an_ssml_document_is_spoken_as_its_markup_says(reader: httpx.Client) -> None:
    body = {"input": SSML, "model": "tts-1", "voice": "alloy", "response_format": "pcm"}
    response = reader.post("/api/v1/audio/jobs", json={**body, "title": "Harbour"})
    assert response.status_code == 202, response.text
    job = response.json()
    # One chapter, in pieces of whole sentences.
    assert [c["title"] for c in job["chapters"]] == ["Harbour"]
    assert job["progress"]["pieces_total"] >= 2
    done = finished(reader, job["id"])
    assert done["status"] == "succeeded", done
    pcm = _download_pcm(reader, next(o for o in done["outputs"] if o["kind"] == "chapter"))
    # The break is heard as the two seconds it asks for, after the paragraph's own pause,
    # and say-as spells the number out.
    assert _longest_silence_s(pcm) == pytest.approx(2.0 + PARAGRAPH_PAUSE_MS / 1000, abs=0.2)
    assert word_error_rate(SSML_SPOKEN, transcribe(pcm, RATE)) <= WER_BOUND


def test_bad_ssml_is_refused_naming_where_before_anything_is_queued(
    jobs_router: JobsRouter,
) -> None:
    with jobs_router.client("careless-markup") as client:
        body = {"input": "<speak><p>Unclosed</speak>", "model": "espeak", "voice": "alloy"}
        response = client.post("/api/v1/audio/jobs", json=body)
        assert response.status_code == 400, response.text
        assert "line 1, column" in response.json()["error"]["message"]
        assert client.get("/api/v1/audio/jobs").json()["data"] == []


# The word the lexicon says otherwise: Whisper hears "TTS" as the letters.
LEXICON_ENTRY = {"grapheme": "TTS", "alias": "text to speech"}


@pytest.mark.parametrize(
    ("document", "said"),
    [
        (
            "# Tools\n\nWe build TTS for every reader.",
            "Tools. We build text to speech for every reader.",
        ),
        (
            "<speak><p>We build TTS for every reader.</p></speak>",
            "We build text to speech for every reader.",
        ),
    ],
    ids=["markdown-by-the-keys-default", "ssml-named"],
)
def test_a_lexicon_alias_is_heard_in_a_jobs_chapter(
    jobs_router: JobsRouter, document: str, said: str
) -> None:
    with jobs_router.client("lexicographer") as owner:
        made = owner.post("/api/v1/audio/lexicons", json={"entries": [LEXICON_ENTRY]})
        assert made.status_code == 200, made.text
        lexicon = made.json()["id"]
    body: dict[str, Any] = {"input": document, "model": "tts-1", "voice": "alloy"}
    if document.startswith("<speak"):
        body["lexicons"] = [lexicon]
        key = jobs_router.keys.create("lexicographer", "speech")
    else:  # without `lexicons`, the job applies its API key's defaults
        key = jobs_router.keys.create("lexicographer", "speech", lexicons=(lexicon,))
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=jobs_router.router.url, headers=headers, timeout=60) as client:
        response = client.post("/api/v1/audio/jobs", json={**body, "response_format": "pcm"})
        assert response.status_code == 202, response.text
        assert response.json()["lexicons"] == [lexicon]
        # Deleted while the job waits or runs: the job still says the word its way.
        assert client.delete(f"/api/v1/audio/lexicons/{lexicon}").status_code == 200
        done = finished(client, response.json()["id"])
        assert done["status"] == "succeeded", done
        chapter = [o for o in done["outputs"] if o["kind"] == "chapter"][-1]
        heard = transcribe(_download_pcm(client, chapter), RATE)
    assert "tts" not in normalized_words(heard), heard
    assert word_error_rate(said, heard) <= WER_BOUND, heard


@pytest.mark.parametrize("sent_as", ["json", "multipart"])
def test_an_unknown_lexicon_is_refused_before_anything_is_queued(
    jobs_router: JobsRouter, sent_as: str
) -> None:
    unknown = "lex_" + "0" * 24
    with jobs_router.client("careless-lexicographer") as client:
        if sent_as == "json":
            body = {"input": "Hello there.", "model": "espeak", "voice": "alloy"}
            response = client.post("/api/v1/audio/jobs", json={**body, "lexicons": [unknown]})
        else:
            response = _upload(client, b"Hello there.", lexicons=f'["{unknown}"]')
        assert response.status_code == 404, response.text
        error = response.json()["error"]
        assert (error["code"], error["param"]) == ("lexicon_not_found", "lexicons")
        assert unknown in error["message"]
        assert client.get("/api/v1/audio/jobs").json()["data"] == []


def _longest_silence_s(pcm: bytes) -> float:
    """The longest run of 20 ms frames that are all but silent."""
    frame = RATE // 50
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    quiet = np.sqrt((frames**2).mean(axis=1)) < 100
    longest = run = 0
    for is_quiet in quiet:
        run = run + 1 if is_quiet else 0
        longest = max(longest, run)
    return longest / 50


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"PK\x03\x04 truncated", "not a zip archive"),
        (_zip({"mimetype": b"application/epub+zip"}), "not a readable EPUB"),
        (_zip({"mimetype": b"x", "bomb.xhtml": bytes(4 * 1024 * 1024)}), "zip bomb"),
        (b"\xff\xfe\x00 not text", "neither an EPUB nor UTF-8 text"),
    ],
    ids=["truncated", "no-container", "zip-bomb", "binary"],
)
def test_a_bad_file_is_refused_naming_the_problem(
    jobs_router: JobsRouter, data: bytes, words: str
) -> None:
    with jobs_router.client("careless-reader") as client:
        response = _upload(client, data)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["param"] == "file"
        assert words in error["message"]
        assert client.get("/api/v1/audio/jobs").json()["data"] == []


@pytest.mark.parametrize(
    ("script", "voices", "words"),
    [
        ("ANN: Hello.\nCARL: Hi.", {"ANN": "alloy"}, "speaker 'CARL' has no voice"),
        ("Hello there.\nANN: Hi.", {"ANN": "alloy"}, "line 1 has no speaker"),
        ("ANN: Hello.", {"ANN": "no-such-voice"}, "no-such-voice"),
    ],
    ids=["unknown-speaker", "no-speaker", "unknown-voice"],
)
def test_a_bad_script_is_refused_before_anything_is_queued(
    jobs_router: JobsRouter, script: str, voices: dict[str, str], words: str
) -> None:
    with jobs_router.client("careless-writer") as client:
        body = {"input": script, "model": "tone", "voice": "alloy", "voices": voices}
        response = client.post("/api/v1/audio/jobs", json=body)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert words in error["message"]
        assert error["param"] in ("voices", "input")
        assert client.get("/api/v1/audio/jobs").json()["data"] == []
