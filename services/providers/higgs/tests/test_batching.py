"""Requests at once share Higgs' decoding steps, and each sounds as it does alone."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx

from chorus_provider.testing import (
    ServiceProcess,
    same_audio,
    synthesize,
    synthesize_together,
    wait_until_idle,
    wait_until_in_flight,
)

TEXTS = ["Hello there.", "A longer sentence, so that its prompt is longer.", "Medium text."]
_JOINED = re.compile(r"joined the batch; (\d+) generating")


def body(text: str) -> dict[str, object]:
    return {"text": text, "voice": "smart"}


def test_requests_at_once_share_steps_and_sound_as_they_do_alone(higgs: ServiceProcess) -> None:
    alone = [synthesize(higgs.url, body(text)) for text in TEXTS]
    together = synthesize_together(higgs.url, [body(text) for text in TEXTS])
    assert [same_audio(t, a) for t, a in zip(together, alone, strict=True)] == [True] * 3
    assert max(int(n) for n in _JOINED.findall(higgs.log())) > 1, "never one batch"
    # Making a prompt warns of nothing: no log line per request.
    assert "have to be in `processor_kwargs`" not in higgs.log()


def test_a_client_leaving_mid_batch_does_not_change_the_others_audio(
    higgs: ServiceProcess,
) -> None:
    staying_body = body("Keep talking for a while. " * 3)
    alone = synthesize(higgs.url, staying_body)
    with ThreadPoolExecutor(1) as pool:
        url = f"{higgs.url}/v1/synthesize"
        with httpx.stream("POST", url, json=body("Keep talking. " * 140), timeout=60) as left:
            assert left.status_code == 200
            chunks = left.iter_raw()  # held: dropping the iterator would close the stream
            assert next(chunks)
            staying = pool.submit(synthesize, higgs.url, staying_body)
            wait_until_in_flight(higgs.url, 2, 60)
        # The long request's client has left while the other one generates beside it.
        assert same_audio(staying.result(), alone)
    wait_until_idle(higgs.url, 60)


def test_each_member_stops_at_its_own_budget(higgs: ServiceProcess) -> None:
    text = "Ten chars!"
    short, longer = synthesize_together(higgs.url, [body(text), body(text * 4)])
    # 1 s plus 0.1 s a character (the tiny model never ends by itself), in 24 kHz samples.
    assert [len(short) / 2 / 24_000, len(longer) / 2 / 24_000] == [2.0, 5.0]
