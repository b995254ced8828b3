"""Long-form jobs end to end: a Markdown document becomes chapters and an M4B, a job can be
cancelled mid-way, bad documents are refused before anything is queued, and a job is its
owner's alone. Real router, Redis, espeak-ng and Piper processes."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from typing import Any

import av
import httpx
import pytest
from mutagen.id3 import ID3

from support.jobs_stack import (
    MAX_CHARS_PER_DAY,
    MAX_INPUT_CHARS,
    JobsRouter,
    finished,
    job_events,
)
from support.processes import ServiceProcess, wait_until
from support.tone_stack import control
from support.transcribe import transcribe, word_error_rate

pytestmark = pytest.mark.e2e

BOOK = """# The Harbour

The boats came in at dawn. Gulls followed them, crying over the grey water.

# The Market

By noon the square was full. Fishmongers shouted their prices, and children ran between
the stalls with baskets of bread. An old man sold maps of coasts that no longer existed.
He said the sea had taken them, one village at a time, and nobody had thought to ask it
to stop. The children laughed at him, but they bought his maps all the same.

# Night

The lamps went out one by one.
"""
TITLES = ["The Harbour", "The Market", "Night"]
MARKET = "The Market. " + BOOK.split("# The Market")[1].split("# Night")[0].strip()
SPEECH = {"model": "tts-1", "voice": "alloy"}
RATE = 24_000
# The bound the engine tests hold Whisper's hearing of Piper to.
WER_BOUND = 0.25


@pytest.fixture(scope="module")
def alice(jobs_router: JobsRouter) -> Iterator[httpx.Client]:
    with jobs_router.client("alice") as client:
        yield client


def _submit(client: httpx.Client, document: str, **extra: Any) -> dict[str, Any]:
    response = client.post("/api/v1/audio/jobs", json={**SPEECH, "input": document, **extra})
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    return job


def test_markdown_book_becomes_chapter_files_and_an_m4b_with_chapters(
    alice: httpx.Client,
) -> None:
    job = _submit(alice, BOOK, title="A Small Town", response_format="mp3", captions=False)
    assert job["status"] in ("queued", "running")
    assert [c["title"] for c in job["chapters"]] == TITLES

    events = list(job_events(alice, job["id"]))
    assert events[-1]["type"] == "job.succeeded", events[-1]
    progress = [e["job"]["progress"] for e in events]
    assert progress[-1]["pieces_done"] == progress[-1]["pieces_total"] > 3
    assert [p["pieces_done"] for p in progress] == sorted(p["pieces_done"] for p in progress)

    done = alice.get(f"/api/v1/audio/jobs/{job['id']}").json()
    assert done["status"] == "succeeded"
    # One voice per chapter: each chapter was spoken by one provider, Piper (the primary).
    assert [c["provider"] for c in done["chapters"]] == ["piper"] * 3
    outputs = {(o["kind"], o.get("chapter")): o for o in done["outputs"]}
    # Piper times words, but this job asked for no captions.
    assert "captions" not in {kind for kind, _ in outputs}
    chapters = [outputs[("chapter", i)] for i in range(3)]
    durations = [c["duration_s"] for c in chapters]
    # The long middle chapter takes longest; none is empty.
    assert min(durations) > 1.0
    assert durations[1] > 2 * max(durations[0], durations[2])

    book = alice.get(outputs[("book", None)]["download_path"])
    assert book.status_code == 200
    assert book.headers["content-type"] == "audio/mp4"
    with av.open(io.BytesIO(book.content)) as container:
        marks = container.chapters()
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "aac"
    assert [m["metadata"]["title"] for m in marks] == TITLES
    # Each chapter marker spans its chapter's audio and the second of silence after it.
    gaps = [1.0, 1.0, 0.0]
    for mark, expected, gap in zip(marks, durations, gaps, strict=True):
        length = float((mark["end"] - mark["start"]) * mark["time_base"])
        assert length == pytest.approx(expected + gap, abs=0.05)

    mp3 = alice.get(chapters[1]["download_path"])
    assert mp3.headers["content-type"] == "audio/mpeg"
    pcm = _decoded(mp3.content)
    assert len(pcm) / 2 / RATE == pytest.approx(durations[1], abs=0.15)
    # The chapter is its own words, heard as such.
    assert word_error_rate(MARKET, transcribe(pcm, RATE)) <= WER_BOUND

    manifest = alice.get(outputs[("manifest", None)]["download_path"]).json()
    assert manifest["title"] == "A Small Town"
    assert [c["title"] for c in manifest["chapters"]] == TITLES


def test_a_book_as_mp3_has_chapter_frames_and_each_chapter_captions(
    jobs_router: JobsRouter, alice: httpx.Client
) -> None:
    # espeak-ng times words, so each chapter gets captions.
    job = _submit(alice, BOOK, model="espeak", title="A Small Town", book_format="mp3")
    done = finished(alice, job["id"])
    assert done["status"] == "succeeded", done
    chapters = [o for o in done["outputs"] if o["kind"] == "chapter"]
    durations = [c["duration_s"] for c in chapters]
    book = next(o for o in done["outputs"] if o["kind"] == "book")
    assert book["format"] == "mp3"

    data = alice.get(book["download_path"]).content
    tags = ID3(io.BytesIO(data))
    assert tags["TIT2"].text == ["A Small Town"]
    (toc,) = tags.getall("CTOC")
    marks = [tags[f"CHAP:{element}"] for element in toc.child_element_ids]
    assert [m.sub_frames["TIT2"].text[0] for m in marks] == TITLES
    # Contiguous marks, each its chapter and the second of silence after it but the last.
    assert marks[0].start_time == 0
    assert all(a.end_time == b.start_time for a, b in itertools.pairwise(marks))
    for mark, expected, gap in zip(marks, durations, [1.0, 1.0, 0.0], strict=True):
        assert (mark.end_time - mark.start_time) / 1000 == pytest.approx(expected + gap, abs=0.05)
    heard = len(_decoded(data)) / 2 / RATE
    assert heard == pytest.approx(sum(durations) + 2.0, abs=0.15)

    captions = {
        (o["chapter"], o["format"]): alice.get(o["download_path"])
        for o in done["outputs"]
        if o["kind"] == "captions"
    }
    assert sorted(captions) == [(i, f) for i in range(3) for f in ("srt", "vtt")]
    assert captions[(0, "vtt")].headers["content-type"].startswith("text/vtt")
    vtt = captions[(1, "vtt")].text
    assert vtt.startswith("WEBVTT")
    assert "Fishmongers shouted their prices" in " ".join(vtt.split())
    # The last cue ends with the chapter's audio, well past its first piece's.
    last_end = _seconds(vtt.strip().split("\n\n")[-1].splitlines()[0].split(" --> ")[1])
    assert last_end == pytest.approx(durations[1], abs=1.0)
    srt = captions[(2, "srt")].text
    assert srt.startswith("1\n00:00:00,")
    assert "lamps" in srt

    # The owner deletes the files before their links expire: each link is dead at once,
    # the job remains without outputs, and the audit log says who did it.
    deleted = alice.delete(f"/api/v1/audio/jobs/{job['id']}/outputs")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["outputs"] == []
    assert [alice.get(o["download_path"]).status_code for o in done["outputs"]] == [404] * len(
        done["outputs"]
    )
    with jobs_router.client("auditor", "admin") as admin:
        log = admin.get(
            "/api/v1/admin/audit", params={"action": "job.outputs_delete", "user": "alice"}
        ).json()["data"]
    assert [(e["resource_id"], e["outcome"]) for e in log] == [(job["id"], "ok")]


def _decoded(data: bytes) -> bytes:
    """The audio of an encoded file as 24 kHz s16 PCM."""
    to_pcm = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    with av.open(io.BytesIO(data), "r") as container:
        frames = [out for frame in container.decode(audio=0) for out in to_pcm.resample(frame)]
    return b"".join(bytes(frame.planes[0])[: frame.samples * 2] for frame in frames)


def _seconds(clock: str) -> float:
    hours, minutes, seconds = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@pytest.fixture
def slow_tones(jobs_router: JobsRouter) -> Iterator[ServiceProcess]:
    """The primary tone provider taking half a second a piece, so a job lasts long enough
    to be cancelled mid-way (espeak-ng can finish a short book between two requests); quick
    again after the test."""
    tone = jobs_router.tones["tone-a"]
    control(tone, stall_s=0.5)
    yield tone
    control(tone)


def test_cancel_mid_job_stops_it_and_removes_its_pieces(
    jobs_router: JobsRouter, alice: httpx.Client, slow_tones: ServiceProcess
) -> None:
    sentences = " ".join(f"This is sentence number {n} of a long chapter." for n in range(60))
    job = _submit(alice, f"# Long\n\n{sentences}", model="tone")
    for event in job_events(alice, job["id"]):
        if event["job"]["progress"]["pieces_done"] >= 1:
            break
    assert jobs_router.pieces_stored(job["id"])

    cancelled = alice.delete(f"/api/v1/audio/jobs/{job['id']}")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"

    events = list(job_events(alice, job["id"]))
    assert [e["type"] for e in events] == ["job.cancelled"]
    assert (
        events[0]["job"]["progress"]["pieces_done"] < events[0]["job"]["progress"]["pieces_total"]
    )
    assert wait_until(lambda: not jobs_router.pieces_stored(job["id"]), timeout_s=10)
    again = alice.delete(f"/api/v1/audio/jobs/{job['id']}")
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("change", "param", "words"),
    [
        ({"input": "word " * (MAX_INPUT_CHARS // 5 + 1)}, "input", f"at most {MAX_INPUT_CHARS}"),
        ({"input": "  \n\n  "}, "input", "text to speak"),
        ({"input": "# \n\n---\n"}, "input", "text to speak"),
        ({"voice": "no-such-voice"}, "voice", "no-such-voice"),
        ({"model": "no-such-model"}, "model", "no-such-model"),
        ({"speed": 9}, "speed", "speed"),
    ],
)
def test_bad_documents_are_refused_before_anything_is_queued(
    jobs_router: JobsRouter, change: dict[str, Any], param: str, words: str
) -> None:
    with jobs_router.client("careless") as client:
        response = client.post("/api/v1/audio/jobs", json={**SPEECH, "input": BOOK, **change})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["param"] == param
        assert words in error["message"]
        assert client.get("/api/v1/audio/jobs").json()["data"] == []


def test_a_job_is_its_owners_alone(jobs_router: JobsRouter, alice: httpx.Client) -> None:
    job = _submit(alice, "# Secret\n\nOnly Alice may hear this.", model="espeak")
    with jobs_router.client("mallory") as mallory:
        for method, path in [
            ("GET", ""),
            ("GET", "/events"),
            ("DELETE", ""),
        ]:
            response = mallory.request(method, f"/api/v1/audio/jobs/{job['id']}{path}")
            assert response.status_code == 404, (method, path)
            assert response.json()["error"]["code"] == "job_not_found"
        assert mallory.get("/api/v1/audio/jobs").json()["data"] == []
    listed = alice.get("/api/v1/audio/jobs", params={"limit": 1}).json()
    assert listed["data"][0]["id"] == job["id"]
    assert list(job_events(alice, job["id"]))[-1]["type"] == "job.succeeded"


def test_jobs_come_in_cursor_pages_newest_first(jobs_router: JobsRouter) -> None:
    with jobs_router.client("pager") as client:
        made = [_submit(client, f"Note {n}.", model="espeak")["id"] for n in range(3)]
        first = client.get("/api/v1/audio/jobs", params={"limit": 2}).json()
        assert [j["id"] for j in first["data"]] == made[::-1][:2]
        assert first["has_more"] is True
        rest = client.get(
            "/api/v1/audio/jobs", params={"limit": 2, "after": first["last_id"]}
        ).json()
        assert [j["id"] for j in rest["data"]] == made[:1]
        assert rest["has_more"] is False
        # A cursor that is no job of theirs is refused, as voices' and lexicons' are.
        unknown = client.get("/api/v1/audio/jobs", params={"after": "job_unknown"})
        assert unknown.status_code == 404, unknown.text
        assert unknown.json()["error"]["param"] == "after"


def test_a_users_jobs_speak_at_most_their_characters_a_day(jobs_router: JobsRouter) -> None:
    document = "Word " * (MAX_INPUT_CHARS // 5 - 1)
    with jobs_router.client("wordy") as client:
        for _ in range(MAX_CHARS_PER_DAY // len(document.strip())):
            job = _submit(client, document, model="espeak")
            # Cancelled, a job still counts: its characters were asked for.
            assert client.delete(f"/api/v1/audio/jobs/{job['id']}").status_code == 200
        refused = client.post(
            "/api/v1/audio/jobs", json={**SPEECH, "input": document, "model": "espeak"}
        )
        assert refused.status_code == 429, refused.text
        assert f"at most {MAX_CHARS_PER_DAY} a day" in refused.json()["error"]["message"]
        assert 0 < int(refused.headers["retry-after"]) <= 86_400
    with jobs_router.client("quiet") as other:
        assert _submit(other, "Someone else may still speak.", model="espeak")["id"]
