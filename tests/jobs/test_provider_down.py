"""One voice per chapter when a provider fails: a piece that fails is retried on the
chapter's provider; a provider that stays down past the bound has its chapter redone on the
fallback provider, whole, unless the job asked to wait for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from support.jobs_stack import JobsRouter, finished
from support.tone_stack import control, requests_seen

pytestmark = pytest.mark.e2e

RATE = 24_000
SENTENCES = [f"Sentence number {n} is here." for n in range(40)]
# The tone engine speaks 0.1 s per word; the chapter starts by speaking its title.
SPOKEN_S = (1 + sum(len(s.split()) for s in SENTENCES)) * 0.1


@pytest.fixture
def tones(jobs_router: JobsRouter) -> Iterator[dict[str, Any]]:
    """The tone providers, healthy again after the test."""
    yield jobs_router.tones
    for proc in jobs_router.tones.values():
        control(proc)


def _speak_chapter(client: httpx.Client, **options: Any) -> dict[str, Any]:
    body = {
        "input": "# Tones\n\n" + " ".join(SENTENCES),
        "model": "tone",
        "voice": "alloy",
        "response_format": "pcm",
        **options,
    }
    response = client.post("/api/v1/audio/jobs", json=body)
    assert response.status_code == 202, response.text
    done = finished(client, response.json()["id"])
    assert done["status"] == "succeeded", done
    return done


def _chapter_pcm(client: httpx.Client, job: dict[str, Any]) -> bytes:
    output = next(o for o in job["outputs"] if o["kind"] == "chapter")
    return client.get(output["download_path"]).content


def _tones_heard(pcm: bytes) -> set[int]:
    """The dominant frequency of each quarter second, rounded to 10 Hz."""
    window = RATE // 4
    heard = set()
    for start in range(0, len(pcm) // 2 - window, window):
        samples = np.frombuffer(pcm[start * 2 : (start + window) * 2], dtype="<i2")
        spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
        heard.add(round(float(np.fft.rfftfreq(window, 1 / RATE)[np.argmax(spectrum)]), -1))
    return heard


def test_a_chapter_whose_provider_stays_down_is_redone_on_the_fallback(
    jobs_router: JobsRouter, tones: dict[str, Any]
) -> None:
    a, b = tones["tone-a"], tones["tone-b"]
    # tone-a speaks the chapter's first pieces, then stays down.
    control(a, fail_status=503, pass_count=3, fail_count=100_000)
    seen_by_b = requests_seen(b)
    with jobs_router.client("listener") as client:
        done = _speak_chapter(client)
        assert [c["provider"] for c in done["chapters"]] == ["tone-b"]
        pcm = _chapter_pcm(client, done)
    # Every piece was made again by tone-b (440 Hz), none of tone-a's (220 Hz) kept.
    assert requests_seen(b) - seen_by_b == done["progress"]["pieces_total"]
    assert _tones_heard(pcm) == {440}
    assert len(pcm) / 2 / RATE == pytest.approx(SPOKEN_S, abs=0.05)
    assert done["progress"]["audio_seconds"] == pytest.approx(SPOKEN_S, abs=0.05)
    metrics = httpx.get(f"{jobs_router.router.url}/metrics", timeout=10).text
    assert _sample(metrics, 'tts_job_chapter_fallbacks_total{provider="tone-a"}') >= 1
    assert _sample(metrics, 'tts_jobs{state="queued"}') >= 0


def _sample(metrics: str, series: str) -> float:
    """A series' value in a Prometheus text page."""
    line = next(line for line in metrics.splitlines() if line.startswith(series + " "))
    return float(line.rsplit(" ", 1)[1])


def test_a_job_that_waits_keeps_its_provider_through_an_outage(
    jobs_router: JobsRouter, tones: dict[str, Any]
) -> None:
    a, b = tones["tone-a"], tones["tone-b"]
    failures = 4
    control(a, fail_status=503, pass_count=2, fail_count=failures)
    seen_by_a, seen_by_b = requests_seen(a), requests_seen(b)
    with jobs_router.client("patient") as client:
        done = _speak_chapter(client, on_provider_down="wait")
        assert [c["provider"] for c in done["chapters"]] == ["tone-a"]
        pcm = _chapter_pcm(client, done)
    assert requests_seen(b) == seen_by_b
    # The outage outlasted the bound (jobs.provider_down_s), and every failure was retried.
    assert requests_seen(a) - seen_by_a >= done["progress"]["pieces_total"] + failures
    assert _tones_heard(pcm) == {220}
    assert len(pcm) / 2 / RATE == pytest.approx(SPOKEN_S, abs=0.05)


def test_a_busy_provider_is_waited_for_not_counted_down(
    jobs_router: JobsRouter, tones: dict[str, Any]
) -> None:
    a, b = tones["tone-a"], tones["tone-b"]
    refusals = 4
    # tone-a says it is busy (429) for longer than the down bound, then serves again.
    control(a, fail_status=429, retry_after=0.2, pass_count=2, fail_count=refusals)
    seen_by_a, seen_by_b = requests_seen(a), requests_seen(b)
    with jobs_router.client("crowded") as client:
        done = _speak_chapter(client)
        assert [c["provider"] for c in done["chapters"]] == ["tone-a"]
        pcm = _chapter_pcm(client, done)
    assert requests_seen(b) == seen_by_b, "a busy provider's chapter never moved"
    assert requests_seen(a) - seen_by_a >= done["progress"]["pieces_total"] + refusals
    assert _tones_heard(pcm) == {220}
