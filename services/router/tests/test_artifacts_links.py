"""Download names, lifetimes, signatures and byte ranges: the rules, without a server."""

from __future__ import annotations

import time

import pytest
from pydantic import SecretStr

from chorus_contracts import InvalidRequest, RangeNotSatisfiable
from chorus_router.artifacts.links import LinkPolicy, media_type, new_file_id, parse_name
from chorus_router.artifacts.ranges import byte_range
from chorus_router.artifacts.settings import LinkSettings

KEY = SecretStr("k" * 40)


def test_names_are_ids_with_a_format_and_nothing_else() -> None:
    file_id = new_file_id()
    assert parse_name(f"{file_id}.mp3") == (file_id, "mp3")
    assert parse_name(f"{file_id}.vtt") == (file_id, "vtt")  # a captioned response's captions
    assert parse_name(f"{file_id}.srt") == (file_id, "srt")
    for bad in (f"{file_id}.exe", f"../{file_id}.mp3", f"{file_id}.mp3/..", "file_x.mp3", ""):
        assert parse_name(bad) is None


def test_stored_files_are_served_as_their_format() -> None:
    assert media_type("vtt") == "text/vtt; charset=utf-8"
    assert media_type("srt") == "application/x-subrip"
    assert media_type("mp3") == "audio/mpeg"


def test_lifetimes_default_and_stop_at_the_maximum() -> None:
    policy = LinkPolicy(LinkSettings(default_ttl_s=600, max_ttl_s=1200))
    assert policy.lifetime_s(None) == 600
    assert policy.lifetime_s(1200) == 1200
    with pytest.raises(InvalidRequest, match="at most 1200s"):
        policy.lifetime_s(1201)


def test_unsigned_links_are_plain_paths() -> None:
    policy = LinkPolicy(LinkSettings())
    assert policy.path("file_a.mp3", 123) == "/api/v1/audio/files/file_a.mp3"
    assert not policy.verify("file_a.mp3", int(time.time()) + 60, "anything")


def test_a_signature_holds_for_its_name_until_its_expiry() -> None:
    policy = LinkPolicy(LinkSettings(signed=True, signing_key=KEY))
    expires = int(time.time()) + 60
    path = policy.path("file_a.mp3", expires)
    signature = path.split("signature=")[1]
    assert path.startswith(f"/api/v1/audio/files/file_a.mp3?expires={expires}&signature=")
    assert policy.verify("file_a.mp3", expires, signature)
    assert not policy.verify("file_b.mp3", expires, signature)  # another file
    assert not policy.verify("file_a.mp3", expires + 1, signature)  # a longer life
    # One character changed (a fixed "0" would leave a signature ending in 0 unchanged).
    tampered = signature[:-1] + ("1" if signature.endswith("0") else "0")
    assert not policy.verify("file_a.mp3", expires, tampered)
    assert not policy.verify("file_a.mp3", None, signature)
    past = int(time.time()) - 1
    assert not policy.verify("file_a.mp3", past, policy.path("file_a.mp3", past).split("=")[-1])
    other = LinkPolicy(LinkSettings(signed=True, signing_key=SecretStr("o" * 40)))
    assert not other.verify("file_a.mp3", expires, signature)  # another router's key


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, (0, 1000)),
        ("bytes=0-99", (0, 100)),
        ("bytes=900-", (900, 100)),
        ("bytes=990-2000", (990, 10)),
        ("bytes=-10", (990, 10)),
        ("bytes=-5000", (0, 1000)),
        ("bytes=0-1,5-6", (0, 1000)),  # several ranges: the whole file
        ("bytes=9-3", (0, 1000)),
        ("items=0-3", (0, 1000)),
    ],
)
def test_byte_ranges(header: str | None, expected: tuple[int, int]) -> None:
    assert byte_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_ranges_past_the_end_are_416_with_the_size(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as refused:
        byte_range(header, 1000)
    assert refused.value.status == 416
    assert refused.value.headers()["Content-Range"] == "bytes */1000"
