"""Long-form jobs end to end: a Markdown document becomes chapters and an M4B, a job can be
cancelled mid-way, bad documents are refused before anything is queued, and a job is its
owner's alone. Real router, Redis, espeak-ng and Piper processes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import av
import httpx
import pytest

from support.jobs_stack import MAX_CHARS_PER_DAY, MAX_INPUT_CHARS, JobsRouter, job_events
from support.processes import wait_until

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
SPEECH = {"model": "tts-1", "voice": "alloy"}


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
    job = _submit(alice, BOOK, title="A Small Town", response_format="mp3")
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
    with av.open(io.BytesIO(mp3.content)) as container:
        decoded = sum(frame.samples for frame in container.decode(audio=0)) / 24_000
    assert decoded == pytest.approx(durations[1], abs=0.15)

    manifest = alice.get(outputs[("manifest", None)]["download_path"]).json()
    assert manifest["title"] == "A Small Town"
    assert [c["title"] for c in manifest["chapters"]] == TITLES


def test_cancel_mid_job_stops_it_and_removes_its_pieces(
    jobs_router: JobsRouter, alice: httpx.Client
) -> None:
    sentences = " ".join(f"This is sentence number {n} of a long chapter." for n in range(60))
    job = _submit(alice, f"# Long\n\n{sentences}", model="espeak")
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
