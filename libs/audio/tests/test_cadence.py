from __future__ import annotations

from chorus_audio import slices


def test_a_sentence_leaves_in_200_ms_slices_of_whole_samples() -> None:
    pcm = bytes(range(256)) * 900  # 230 400 bytes: 4.8 s at 24 kHz
    parts = list(slices(pcm, 24_000))
    assert b"".join(parts) == pcm
    assert [len(p) for p in parts] == [9600] * 24


def test_a_short_tail_joins_the_slice_before_it() -> None:
    pcm = bytes(2 * 24_000 // 10 * 3)  # 300 ms
    assert [len(p) for p in slices(pcm, 24_000)] == [14_400]
    pcm = bytes(2 * 24_000 // 10 * 5)  # 500 ms: 200 + 300
    assert [len(p) for p in slices(pcm, 24_000)] == [9600, 14_400]


def test_odd_rates_and_short_chunks_pass_through() -> None:
    assert list(slices(b"\x01\x02\x03", 22_050)) == [b"\x01\x02\x03"]
    assert list(slices(b"", 22_050)) == []
    parts = list(slices(bytes(22_050 * 2), 22_050))
    assert all(len(p) % 2 == 0 for p in parts)
    assert sum(map(len, parts)) == 22_050 * 2
