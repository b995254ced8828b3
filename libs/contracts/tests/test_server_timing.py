from __future__ import annotations

import pytest

from chorus_contracts import FIRST_AUDIO_METRIC, PROVIDER_METRIC, timing_entry, timing_ms


def test_an_entry_reads_back_as_its_milliseconds() -> None:
    header = ", ".join(
        [timing_entry(PROVIDER_METRIC, 0.1412, "piper"), timing_entry(FIRST_AUDIO_METRIC, 0.146)]
    )
    assert header == 'provider;desc="piper";dur=141.2, first-audio;dur=146.0'
    assert timing_ms(header, PROVIDER_METRIC) == 141.2
    assert timing_ms(header, FIRST_AUDIO_METRIC) == 146.0


@pytest.mark.parametrize(
    "header",
    [None, "", "cache;dur=2.0", "first-audio", "first-audio;desc=x", "first-audio;dur=soon"],
)
def test_a_missing_or_malformed_metric_reads_as_none(header: str | None) -> None:
    assert timing_ms(header, FIRST_AUDIO_METRIC) is None


def test_other_servers_spacing_is_read() -> None:
    assert timing_ms("db;dur=53, first-audio ; dur = 12.5 ;desc=x", FIRST_AUDIO_METRIC) == 12.5
